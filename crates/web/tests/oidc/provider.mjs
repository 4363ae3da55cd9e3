// A real OpenID Connect provider for the ProConnect tests: node-oidc-provider (npm `oidc-provider`),
// with one confidential client. The login screen is replaced by an automatic login of the account
// named at /test/next (the tests cannot type into a provider's page), and /test/next also sets how
// long authorisation codes live (to test an expired code).
// Environment: PORT, REDIRECT_URI. Prints « ready » once listening.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
let account = 'personne@exemple.fr';
let codeTtl = 60;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'semaine-industrie',
    client_secret: 'secret-de-test-suffisamment-long',
    redirect_uris: [process.env.REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  async findAccount(ctx, id) {
    return { accountId: id, async claims() { return { sub: id, email: id, email_verified: true }; } };
  },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['cle-de-test-des-cookies'] },
  ttl: {
    AuthorizationCode: () => codeTtl,
    AccessToken: 600, IdToken: 600, Interaction: 600, Session: 600, Grant: 600,
  },
});

const callback = provider.callback();
http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/test/next') {
    account = url.searchParams.get('email');
    codeTtl = Number(url.searchParams.get('code_ttl') || 60);
    res.end('ok');
    return;
  }
  if (url.pathname.startsWith('/interaction/')) {
    try {
      const details = await provider.interactionDetails(req, res);
      const grant = new provider.Grant({ accountId: account, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { login: { accountId: account }, consent: { grantId } },
        { mergeWithLastSubmission: false });
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => console.log('ready'));
