// A real OpenID Connect provider (the `oidc-provider` package) in its own process, for single
// sign-on tests. Reads its client and people from OIDC_TEST_CONFIG (JSON), listens on a free port
// of every loopback address, prints "issuer <url>", and serves its own login and consent pages
// (devInteractions: any login name, any password; the name picks the person).
import { createServer } from 'node:http';
// @ts-expect-error oidc-provider ships no type declarations (they live in @types/oidc-provider, not needed to run it).
import Provider from 'oidc-provider';

/** @type {{ clientId: string; clientSecret: string; redirectUri: string; people: Record<string, Record<string, unknown>> }} */
const config = JSON.parse(process.env.OIDC_TEST_CONFIG ?? '{}');
const server = createServer();
server.listen(0, () => {
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  // localhost, not 127.0.0.1: the console runs on 127.0.0.1, so the provider is another site, as in real life.
  const issuer = `http://localhost:${address.port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: config.clientId, client_secret: config.clientSecret, redirect_uris: [config.redirectUri],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post',
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'groups'] },
    // Claims in the ID token too, as Entra ID and Google put them there.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    cookies: { keys: ['a test provider key, not a secret'] },
    /** @param {unknown} _ctx @param {string} id */
    async findAccount(_ctx, id) {
      return { accountId: id, claims: () => ({ sub: id, ...(config.people[id] ?? {}) }) };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`issuer ${issuer}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
