const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:420px;margin:48px auto;padding:0 16px}
input,button{font:inherit;padding:6px 8px;width:100%;box-sizing:border-box;margin:4px 0 12px}
button{background:#1a7f37;color:#fff;border:0;border-radius:4px;cursor:pointer}
.secondary{background:#eee;color:#333}.error{color:#b42318}.muted{color:#666;font-size:13px}</style></head>
<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

/** The sign-in form of the local provider: plain HTML a person can use and a test can POST to. */
export function loginPage(uid: string, options: { error?: string; demoPassword: string }): string {
  return page(
    'Sign in to the local provider',
    `${options.error ? `<p class="error">${escape(options.error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Email <input name="email" type="email" value="demo@example.com" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button class="secondary" type="submit">Cancel</button></form>
<p class="muted">Local development provider. Demo account: demo@example.com / ${escape(options.demoPassword)}
(unverified@example.com has an unverified email).</p>`,
  );
}

export function consentPage(uid: string, clientId: string, scopes: string[]): string {
  return page(
    'Allow access?',
    `<p><b>${escape(clientId)}</b> asks for: ${scopes.map(escape).join(', ') || 'nothing new'}.</p>
<form method="post" action="/interaction/${escape(uid)}/consent"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${escape(uid)}/abort"><button class="secondary" type="submit">Deny</button></form>`,
  );
}
