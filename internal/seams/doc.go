// Package seams holds no code: its tests check what the go-os packages
// promise together, across package lines (the wrapper order, the error
// classes), so that no one package's tests have to import them all.
package seams
