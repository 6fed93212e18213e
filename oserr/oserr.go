// Package oserr gives every go-os error one class that a caller can ask
// about without knowing which package made it, after gocloud.dev's gcerrors.
//
// Each feature package keeps its own sentinels (kv.ErrNotFound,
// discovery.ErrUnavailable, sync.ErrLocked, ...) and every one of them
// belongs to a Class. Ask either way:
//
//	if errors.Is(err, oserr.Unavailable) { retry() }
//	switch oserr.Code(err) { case oserr.NotFound: ...; case oserr.Forbidden: ... }
//
// errors.Is against a package's sentinel still works as before.
package oserr

import (
	"context"
	"errors"
)

// Class is what kind of failure an error is. A Class is itself an error,
// so that errors.Is(err, oserr.Unavailable) reads as it should.
type Class uint8

// The classes. Their meanings are the same in every package.
const (
	// Unknown: not a go-os error, or one of no particular class.
	Unknown Class = iota
	// Invalid: the caller's input is wrong (a bad key, URL, option, token
	// format, record). Retrying the same call cannot help.
	Invalid
	// NotFound: the thing asked for does not exist.
	NotFound
	// Exists: the thing to create exists already (kv Add).
	Exists
	// Conflict: the state changed under the caller (a CAS version, a
	// definition that differs from an earlier one, a lock held by another).
	Conflict
	// Unauthenticated: no credentials, or credentials that are not valid
	// (HTTP 401).
	Unauthenticated
	// Forbidden: valid credentials that may not do this (HTTP 403, ACL
	// denied, Redis NOAUTH/WRONGPASS).
	Forbidden
	// Limited: refused to protect a resource (rate, concurrency or
	// cardinality limit, throttling, a full buffer). May help later.
	Limited
	// Unavailable: the backend could not be reached or did not answer in
	// time. Retrying may help.
	Unavailable
	// Closed: the value was closed; every call after Close gets this.
	Closed
	// Canceled: the caller's context was cancelled.
	Canceled
	// DeadlineExceeded: the caller's deadline passed before any backend
	// was waited on. (A deadline that passes while waiting on a backend is
	// Unavailable.)
	DeadlineExceeded
	// Corrupt: stored or received data cannot be read.
	Corrupt
	// Unsupported: the backend cannot do this.
	Unsupported
	// Internal: a bug or an invariant broken inside go-os or the backend.
	Internal
)

var names = [...]string{
	Unknown:          "unknown",
	Invalid:          "invalid",
	NotFound:         "not found",
	Exists:           "exists",
	Conflict:         "conflict",
	Unauthenticated:  "unauthenticated",
	Forbidden:        "forbidden",
	Limited:          "limited",
	Unavailable:      "unavailable",
	Closed:           "closed",
	Canceled:         "canceled",
	DeadlineExceeded: "deadline exceeded",
	Corrupt:          "corrupt",
	Unsupported:      "unsupported",
	Internal:         "internal",
}

// String is the class's name in lower case ("unavailable").
func (c Class) String() string {
	if int(c) < len(names) {
		return names[c]
	}
	return "unknown"
}

// Error makes a Class an error, so that it can be the target of errors.Is.
func (c Class) Error() string { return "go-os: " + c.String() }

// Retryable reports whether a call that failed with this class may succeed
// when made again unchanged.
func (c Class) Retryable() bool { return c == Unavailable || c == Limited }

// classer is what every go-os sentinel is.
type classer interface{ ErrorClass() Class }

// sentinel is an error of a class with its own message, for package
// sentinels: errors.Is(err, pkg.ErrX) matches it by identity and
// errors.Is(err, oserr.X) by class.
type sentinel struct {
	class Class
	msg   string
}

func (s *sentinel) Error() string     { return s.msg }
func (s *sentinel) ErrorClass() Class { return s.class }
func (s *sentinel) Is(target error) bool {
	c, ok := target.(Class)
	return ok && c == s.class
}

// New returns a new sentinel error of class c with the message msg. Each
// call returns a distinct error; packages declare theirs once:
//
//	var ErrLocked = oserr.New(oserr.Conflict, "sync: locked")
func New(c Class, msg string) error { return &sentinel{class: c, msg: msg} }

// Code returns the class of err: the class of the first go-os sentinel or
// Class in its chain (depth first, as errors.As looks), else Canceled or
// DeadlineExceeded for the context errors, else Unknown. Code(nil) is
// Unknown.
func Code(err error) Class {
	if err == nil {
		return Unknown
	}
	var c classer
	if errors.As(err, &c) {
		return c.ErrorClass()
	}
	var cl Class
	if errors.As(err, &cl) {
		return cl
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// Retryable reports whether the call that returned err may succeed when
// made again: Code(err).Retryable().
func Retryable(err error) bool { return Code(err).Retryable() }
