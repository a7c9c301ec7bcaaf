// A company's identity provider, for tests and local runs: a real OpenID Connect provider (oidc-provider, the
// certified implementation) with one confidential client and a few accounts, whose sign-in page is replaced by a
// handler that signs in the account named by `login_hint` and grants what the client asked for, with no form.
// Everything else (discovery, PKCE, codes, ID tokens, userinfo) is the provider's own.
//
// Plain ESM run by Node directly: oidc-provider 9 is ESM-only, which Jest here cannot load, so tests start this
// as a separate process and talk to it over HTTP like any relying party would.
//
//   node simulators/oidc-provider.mjs --port 4010 --client-id cancelflow --client-secret s3cret \
//     --redirect-uri http://127.0.0.1:3000/v1/auth/oidc/callback \
//     --accounts '{"grace":{"email":"grace.lin@cancelflow.local","email_verified":true}}'
//
// Port 0 asks the system for a free one. When it is listening it prints its issuer URL, alone on a line, to
// stdout; it stops on SIGINT or SIGTERM.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const usage =
  'usage: node simulators/oidc-provider.mjs --port N --client-id ID --client-secret SECRET ' +
  '--redirect-uri URL [--redirect-uri URL …] [--host 127.0.0.1] [--accounts \'{"subject":{"email":…,"email_verified":true}}\']';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    accounts: { type: 'string', default: '{}' },
  },
  strict: true,
});

const clientId = values['client-id'];
const clientSecret = values['client-secret'];
const redirectUris = values['redirect-uri'] ?? [];
const port = Number(values.port);
if (!clientId || !clientSecret || redirectUris.length === 0 || !Number.isInteger(port)) {
  console.error(usage);
  process.exit(2);
}

/** @type {Record<string, { email?: string; email_verified?: boolean }>} */
const accounts = JSON.parse(values.accounts);

// Listen first, so that port 0 works: the issuer URL names the port the system gave.
let handle = (_request, response) => {
  response.statusCode = 503;
  response.end('starting');
};
const server = createServer((request, response) => handle(request, response));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, values.host, resolve);
});
const address = server.address();
const hostInUrl = values.host.includes(':') ? `[${values.host}]` : values.host;
const issuer = `http://${hostInUrl}:${typeof address === 'object' && address ? address.port : port}`;

// Keys of this run only: its tokens are worthless after it stops.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = {
  ...privateKey.export({ format: 'jwk' }),
  kid: 'simulator-rs256',
  alg: 'RS256',
  use: 'sig',
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Every authorization request must carry a PKCE challenge, confidential client or not.
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(_ctx, subject) {
    const account = accounts[subject];
    if (!account) return undefined;
    return {
      accountId: subject,
      async claims() {
        return { sub: subject, ...account };
      },
    };
  },
});

/** The sign-in and consent pages, without pages: the account is the one `login_hint` names. */
async function interact(request, response) {
  const details = await provider.interactionDetails(request, response);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    const subject = typeof params.login_hint === 'string' ? params.login_hint : '';
    if (!accounts[subject]) {
      await provider.interactionFinished(
        request,
        response,
        { error: 'access_denied', error_description: `no account ${subject || '(no login_hint)'} here` },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    await provider.interactionFinished(
      request,
      response,
      { login: { accountId: subject } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const missing = prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(
      request,
      response,
      { consent: { grantId } },
      { mergeWithLastSubmission: true },
    );
    return;
  }
  response.statusCode = 400;
  response.end(`the simulator does not handle the ${prompt.name} prompt`);
}

const providerHandler = provider.callback();
handle = (request, response) => {
  if (request.url?.startsWith('/interaction/')) {
    interact(request, response).catch((error) => {
      console.error('interaction failed:', error);
      response.statusCode = 500;
      response.end(String(error?.message ?? error));
    });
    return;
  }
  providerHandler(request, response);
};

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);

console.log(issuer);
