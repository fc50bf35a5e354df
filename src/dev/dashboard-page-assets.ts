// The dev dashboard's markup and script, kept apart from the routes. The script is served as a file
// because helmet's Content-Security-Policy forbids inline scripts.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hooklane · dev Stripe Dashboard</title>
<link rel="icon" href="/dev/dashboard/favicon.svg">
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1f36; }
  header { background: #635bff; color: #fff; padding: 12px 24px; font-weight: 600; }
  main { max-width: 720px; margin: 24px auto; background: #fff; border-radius: 8px; padding: 24px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  label { display: block; margin: 8px 0 2px; font-size: 13px; color: #697386; }
  input { font: inherit; padding: 6px 8px; width: 100%; box-sizing: border-box; }
  button, a.button { font: inherit; background: #635bff; color: #fff; border: 0; border-radius: 4px;
         padding: 6px 14px; margin-top: 12px; cursor: pointer; text-decoration: none; display: inline-block; }
  pre { background: #f6f8fa; padding: 12px; overflow: auto; font-size: 13px; }
  .muted { color: #697386; font-size: 13px; }
</style>
</head>
<body>
<header>Stripe Dashboard (development stand-in) · hooklane app</header>
<main>
  <p class="muted">This page plays the Stripe Dashboard: it signs each call to hooklane's Stripe App routes
  with the app's signing secret, as <code>fetchStripeSignature</code> does inside Stripe.</p>
  <label for="userId">Dashboard user (stripe-user-id)</label><input id="userId" value="usr_DevDashboard01">
  <label for="accountId">Account (stripe-account-id)</label><input id="accountId" value="acct_1DevDashboard0001">
  <h2>Connection</h2>
  <div id="connection">Loading…</div>
  <h2>Payment events</h2>
  <label for="paymentIntentId">PaymentIntent id</label><input id="paymentIntentId" placeholder="pi_...">
  <button id="lookup" type="button">Show events</button>
  <pre id="payment"></pre>
</main>
<script src="/dev/dashboard/app.js"></script>
</body>
</html>`;

export const DASHBOARD_SCRIPT = `'use strict';
const $ = (id) => document.getElementById(id);
const ids = () => ({ userId: $('userId').value.trim(), accountId: $('accountId').value.trim() });

async function sign() {
  const { userId, accountId } = ids();
  const res = await fetch('/dev/dashboard/signature?' + new URLSearchParams({ userId, accountId }));
  if (!res.ok) throw new Error('signing failed: ' + res.status);
  return (await res.json()).signature;
}

async function call(path) {
  const { userId, accountId } = ids();
  const signature = await sign();
  return fetch(path, { headers: { 'stripe-signature': signature, 'stripe-user-id': userId, 'stripe-account-id': accountId } });
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  Object.assign(node, attrs || {});
  return node;
}

async function showConnection() {
  const box = $('connection');
  box.replaceChildren(el('span', 'Loading…'));
  try {
    const res = await call('/api/oauth/userinfo');
    const body = await res.json().catch(() => ({}));
    if (res.ok) {
      const signOut = el('button', 'Sign out', { type: 'button', id: 'signOut' });
      signOut.onclick = async () => { await call('/api/oauth/logout'); showConnection(); };
      box.replaceChildren(el('p', 'Connected as ' + (body.name || body.sub) + ' <' + body.email + '>', { id: 'connectedUser' }), signOut);
      return;
    }
    const { userId, accountId } = ids();
    const state = JSON.stringify({ userId, accountId, signature: await sign() });
    const signIn = el('a', 'Sign in', { className: 'button', id: 'signIn', href: '/api/oauth/login?state=' + encodeURIComponent(state) });
    box.replaceChildren(el('p', res.status === 401 ? 'Not connected (' + (body.detail || body.title) + ')' : 'Error ' + res.status + ': ' + (body.detail || body.title)), signIn);
  } catch (err) {
    box.replaceChildren(el('p', String(err)));
  }
}

$('lookup').onclick = async () => {
  const id = $('paymentIntentId').value.trim();
  const res = await call('/api/app/payments/' + encodeURIComponent(id) + '/status');
  $('payment').textContent = res.status + '\\n' + JSON.stringify(await res.json().catch(() => null), null, 2);
};
$('userId').onchange = showConnection;
$('accountId').onchange = showConnection;
showConnection();
`;

/** The page's icon (the console's, in the dev Dashboard's purple): without one, every load asks for /favicon.ico and logs a 404. */
export const DASHBOARD_ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#635bff"/><path d="M9 8v16M23 8v16M9 16h14" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>';
