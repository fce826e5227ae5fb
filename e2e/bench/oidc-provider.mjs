// npm `oidc-provider` as the comparison in `uslugi-bench tokens`: the same token exchange
// (confidential client with client_secret_basic, PKCE S256, an ID token signed RS256 with a 2048-bit
// key or ES256 with a P-256 key, refresh tokens that rotate). Codes are minted through the library's own models at
// GET /bench/codes?n=… before the timed part, as Uslugi's are minted in-process.
// Usage: node bench/oidc-provider.mjs <port> [RS256|ES256] — prints one JSON line when ready.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const redirectUri = 'http://127.0.0.1/cb';
const secret = crypto.randomBytes(32).toString('base64url');
const alg = process.argv[3] === 'ES256' ? 'ES256' : 'RS256';
const { privateKey } =
  alg === 'ES256'
    ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `bench-${alg}`, use: 'sig', alg };

// Kept in a plain Map: the library's quick-start adapter is an LRU of 1 000 entries, which would
// drop codes minted ahead of the timed part. No database, so oidc-provider writes nothing durable
// (Uslugi commits every exchange to SQLite).
const store = new Map();
const grants = new Map();
class MapAdapter {
  constructor(name) {
    this.name = name;
  }
  key(id) {
    return `${this.name}:${id}`;
  }
  async upsert(id, payload) {
    store.set(this.key(id), payload);
    if (payload.grantId) {
      const list = grants.get(payload.grantId) ?? [];
      list.push(this.key(id));
      grants.set(payload.grantId, list);
    }
  }
  async find(id) {
    return store.get(this.key(id));
  }
  async findByUid(uid) {
    for (const v of store.values()) if (v.uid === uid) return v;
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume(id) {
    const v = store.get(this.key(id));
    if (v) v.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    store.delete(this.key(id));
  }
  async revokeByGrantId(grantId) {
    for (const k of grants.get(grantId) ?? []) store.delete(k);
    grants.delete(grantId);
  }
}

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients: [
    {
      client_id: 'bench',
      client_secret: secret,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
  ],
  jwks: { keys: [jwk] },
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  issueRefreshToken: () => true,
  rotateRefreshToken: () => true,
  expiresWithSession: () => false,
  features: { devInteractions: { enabled: false } },
  ttl: { AuthorizationCode: 600, AccessToken: 3600, IdToken: 3600, RefreshToken: 30 * 86400, Grant: 30 * 86400 },
});
const handle = provider.callback();

async function mint(n, challenge) {
  const client = await provider.Client.find('bench');
  const codes = [];
  for (let i = 0; i < n; i += 1) {
    const accountId = `account-${i}`;
    const grant = new provider.Grant({ accountId, clientId: 'bench' });
    grant.addOIDCScope('openid');
    const grantId = await grant.save();
    const code = new provider.AuthorizationCode({
      accountId,
      grantId,
      client,
      scope: 'openid',
      redirectUri,
      authTime: Math.floor(Date.now() / 1000),
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      nonce: 'n',
    });
    codes.push(await code.save());
  }
  return codes;
}

http
  .createServer(async (req, res) => {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/bench/codes') {
      const codes = await mint(Number(url.searchParams.get('n')), url.searchParams.get('challenge'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(codes));
      return;
    }
    handle(req, res);
  })
  .listen(port, '127.0.0.1', () => {
    console.log(JSON.stringify({ issuer, client_id: 'bench', client_secret: secret, redirect_uri: redirectUri }));
  });
