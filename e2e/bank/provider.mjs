// A partner bank for the browser tests: npm `oidc-provider` with its development sign-in pages
// (any login; the accounts below give the claims). The portal is its only client.
// Usage: node bank/provider.mjs <port> <portal callback URL> <client secret>
import http from 'node:http';
import Provider from 'oidc-provider';

const [port, callback, secret] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
const issuer = `http://127.0.0.1:${port}`;

const people = {
  ivanova: { family_name: 'Иванова', given_name: 'Мария', middle_name: 'Сергеевна', phone_number: '+79127000031', phone_number_verified: true },
  petrov: { family_name: 'Петров', given_name: 'Олег', phone_number: '+79127000032', phone_number_verified: false },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'uslugi',
      client_secret: secret,
      redirect_uris: [callback],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  claims: {
    openid: ['sub'],
    profile: ['family_name', 'given_name', 'middle_name'],
    phone: ['phone_number', 'phone_number_verified'],
  },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: `bank-${id}`, ...(people[id] ?? {}) }),
  }),
});

http.createServer(provider.callback()).listen(port, '127.0.0.1', () => console.log(JSON.stringify({ issuer })));
