// A real OpenID provider (node `oidc-provider`) for the integration tests, on loopback only.
//
// Configuration comes from the environment:
//   OIDC_CLIENTS    JSON array of clients: [{ client_id, client_secret, redirect_uris: [...] }]
//   OIDC_CODE_TTL   lifetime of authorization codes in seconds (default 60)
// It listens on 127.0.0.1 on a free port and prints one JSON line: {"issuer": "http://127.0.0.1:PORT"}.
//
// Login is headless: the interaction page signs in the account named by its `login` query
// parameter (the test appends it). An account id is its e-mail address; the prefix
// `unverified:` makes the provider assert `email_verified: false`. Consent is implied.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));
const codeTtl = Number(process.env.OIDC_CODE_TTL || 60);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' };

function account(id) {
  const unverified = id.startsWith('unverified:');
  const email = unverified ? id.slice('unverified:'.length) : id;
  return {
    accountId: id,
    async claims() {
      return { sub: id, email, email_verified: !unverified };
    },
  };
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: (ctx, id) => account(id),
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email'],
    // Put the e-mail claims in the ID token itself, where the relying party reads them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    ttl: {
      AuthorizationCode: () => codeTtl,
      AccessToken: () => 600,
      IdToken: () => 600,
      Grant: () => 600,
      Interaction: () => 600,
      Session: () => 600,
    },
    // Every client is first-party here: grant what it asks without a consent screen.
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid email');
      await grant.save();
      return grant;
    },
    renderError(ctx, out) {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  });
  provider.use(async (ctx, next) => {
    const match = ctx.path.match(/^\/interaction\/[^/]+$/);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const login = ctx.query.login;
    if (details.prompt.name !== 'login' || !login) {
      ctx.status = 400;
      ctx.body = { error: 'append ?login=<account> to sign in' };
      return undefined;
    }
    ctx.respond = false;
    return provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: { accountId: String(login) } },
      { mergeWithLastSubmission: false },
    );
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// The test that started us may die without telling: stop when our stdin closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
