// The OAuth2 / OpenID Connect authorization server the auth adapter tests run
// against: oidc-provider (a certified OpenID provider) configured with
//   - the client_credentials grant, for two clients (one with fewer scopes);
//   - introspection (RFC 7662) and revocation (RFC 7009);
//   - JWKS and JWT access tokens through resource indicators: a token asked
//     for with `resource=<TEST_OAUTH2_RESOURCE>` is a JWT, one without is
//     opaque (the provider introspects opaque tokens only);
//   - authorization_code + refresh tokens, with login and consent approved
//     headlessly (GET the authorization URL with prompt=consent and
//     scope=openid offline_access, follow redirects, read `code`).
// Started by scripts/backends with OIDC_PROVIDER_DIR, OAUTH2_ISSUER, OAUTH2_PORT;
// OAUTH2_KID names the signing key (default go-os-test-1: a restart with the
// same kid and a new key, or a new kid, is how the tests rotate keys).
import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const pkgDir = join(process.env.OIDC_PROVIDER_DIR, 'node_modules', 'oidc-provider');
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const entry = typeof pkg.exports === 'string' ? pkg.exports
  : (pkg.exports?.['.']?.import ?? pkg.exports?.['.']?.default ?? pkg.exports?.['.'] ?? pkg.main);
const { default: Provider } = await import(pathToFileURL(join(pkgDir, entry)).href);

const issuer = process.env.OAUTH2_ISSUER;
const port = Number(process.env.OAUTH2_PORT);
const redirect = `${issuer}/callback`;

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: process.env.OAUTH2_KID || 'go-os-test-1', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'go-os-test',
      client_secret: 'go-os-test-secret',
      grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [redirect],
      scope: 'openid offline_access read write',
    },
    {
      client_id: 'go-os-limited',
      client_secret: 'go-os-limited-secret',
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'read',
    },
  ],
  scopes: ['openid', 'offline_access', 'read', 'write'],
  jwks: { keys: [jwk] },
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => ({
        scope: client.scope,
        audience: resource,
        accessTokenTTL: 3600,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  },
  ttl: { AccessToken: 3600, ClientCredentials: 3600, AuthorizationCode: 60, RefreshToken: 86400, Interaction: 600, Session: 86400, Grant: 86400 },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

// Headless login and consent: every interaction is approved for "test-user"
// with every scope and resource asked for.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  let result;
  if (details.prompt.name === 'login') {
    result = { login: { accountId: 'test-user' } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  if (req.url.startsWith('/callback')) {
    res.setHeader('content-type', 'text/plain');
    res.end(new URL(req.url, issuer).searchParams.get('code') ?? '');
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1');
