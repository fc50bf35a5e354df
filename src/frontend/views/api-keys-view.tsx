import { useState } from 'preact/hooks';
import { API_KEY_SCOPES, type ApiKeyScope, type ApiKeyView, type CreatedApiKey } from '../../api-keys/api-key-types';
import { useApi } from '../components/api-context';
import { ConfirmDialog } from '../components/confirm-dialog';
import { OutcomeMessage } from '../components/outcome';
import { Empty, ErrorPanel, Loading, StaleNotice } from '../components/status';
import type { ActionOutcome } from '../components/use-action';
import { usePoll } from '../components/use-poll';
import { ApiError, networkError } from '../logic/api-client';
import { formatTimestamp } from '../logic/format';

const PATH = '/api/admin/api-keys';

const asApiError = (err: unknown) => (err instanceof ApiError ? err : networkError(err));

/**
 * The key just created. It lives only in this component's state: leaving the page or pressing Done drops
 * it, and the server cannot show it again (it keeps only a hash).
 */
function NewKey({ created, onDone }: { created: CreatedApiKey; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.token);
      setCopied('Copied to the clipboard.');
    } catch {
      setCopied('The browser did not allow copying: select the key and copy it by hand.');
    }
  };
  return (
    <section class="card new-key" aria-labelledby="new-key-title" data-testid="new-api-key">
      <h2 id="new-key-title">Key “{created.key.name}” created</h2>
      <p>
        <strong>Copy it now: it is shown only this once.</strong> hooklane keeps only a hash of it; if it is lost,
        revoke it and create another.
      </p>
      <label for="new-key-value">API key</label>
      <div class="new-key-row">
        <input
          id="new-key-value"
          class="mono"
          readOnly
          value={created.token}
          onFocus={(e) => (e.target as HTMLInputElement).select()}
          spellcheck={false}
          autoComplete="off"
        />
        <button type="button" class="primary" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p class="hint" role="status" aria-live="polite">
        {copied ?? `Send it as Authorization: Bearer <key>. Scopes: ${created.key.scopes.join(', ')}.`}
      </p>
      <button type="button" onClick={onDone}>
        Done, I have stored it
      </button>
    </section>
  );
}

function CreateForm({ onCreated }: { onCreated: (created: CreatedApiKey) => void }) {
  const api = useApi();
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiKeyScope[]>([...API_KEY_SCOPES]);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);
  const toggle = (scope: ApiKeyScope) =>
    setScopes(scopes.includes(scope) ? scopes.filter((s) => s !== scope) : API_KEY_SCOPES.filter((s) => s === scope || scopes.includes(s)));

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!scopes.length) {
      setOutcome({ ok: false, message: 'Choose at least one scope.' });
      return;
    }
    setBusy(true);
    setOutcome(null);
    try {
      const created = await api.post<CreatedApiKey>(PATH, { name: name.trim(), scopes });
      setName('');
      setScopes([...API_KEY_SCOPES]);
      onCreated(created);
    } catch (err) {
      const error = asApiError(err);
      setOutcome({ ok: false, message: `Creating the key failed: ${error.message}`, error });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="search-form" onSubmit={(e) => void submit(e)} aria-label="Create an API key">
      <div class="field">
        <label for="api-key-name">Key name</label>
        <input
          id="api-key-name"
          value={name}
          required
          maxLength={100}
          placeholder="e.g. billing sync"
          autoComplete="off"
          onInput={(e) => setName((e.target as HTMLInputElement).value)}
        />
      </div>
      <fieldset class="field scopes">
        <legend>Scopes</legend>
        {API_KEY_SCOPES.map((scope) => (
          <label key={scope} class="checkbox">
            <input type="checkbox" checked={scopes.includes(scope)} onChange={() => toggle(scope)} /> {scope}
          </label>
        ))}
      </fieldset>
      <div class="field field-buttons">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create key'}
        </button>
      </div>
      <OutcomeMessage outcome={outcome} />
    </form>
  );
}

function KeysTable({ keys, onRevoke }: { keys: ApiKeyView[]; onRevoke: (key: ApiKeyView) => void }) {
  return (
    <div class="table-wrap" tabIndex={0} aria-label="API keys">
      <table class="table" data-testid="api-keys-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Scopes</th>
            <th scope="col">Created</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {keys.map((key) => (
            <tr key={key.id} data-testid={`api-key-${key.id}`}>
              <td>{key.name}</td>
              <td class="mono">{key.id}</td>
              <td>{key.scopes.join(', ')}</td>
              <td class="num">{formatTimestamp(key.createdAt)}</td>
              <td class="num">{key.lastUsedAt ? formatTimestamp(key.lastUsedAt) : 'never'}</td>
              <td>
                {key.revokedAt ? (
                  <span class="badge state-failed" data-testid="api-key-status">
                    revoked {formatTimestamp(key.revokedAt)}
                  </span>
                ) : (
                  <span class="badge badge-ok" data-testid="api-key-status">
                    active
                  </span>
                )}
              </td>
              <td>
                {!key.revokedAt && (
                  <button type="button" class="danger" onClick={() => onRevoke(key)} aria-label={`Revoke ${key.name}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `/keys`: the jobs API's keys: create (shown once), list (never a secret), revoke. */
export function ApiKeysView() {
  const api = useApi();
  const list = usePoll(async () => (await api.get<{ keys: ApiKeyView[] }>(PATH)).keys, 'api-keys', 0);
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<ActionOutcome | null>(null);

  const revoke = async () => {
    if (!revoking) return;
    setBusy(true);
    try {
      await api.del<{ key: ApiKeyView }>(`${PATH}/${encodeURIComponent(revoking.id)}`);
      setOutcome({ ok: true, message: `Key “${revoking.name}” revoked: requests with it now answer 403.` });
      list.refresh();
    } catch (err) {
      const error = asApiError(err);
      setOutcome({ ok: false, message: `Revoking failed: ${error.message}`, error });
    } finally {
      setBusy(false);
      setRevoking(null);
    }
  };

  return (
    <div class="view">
      <div class="view-header">
        <h1>API keys</h1>
        <button type="button" onClick={list.refresh}>
          Refresh
        </button>
      </div>
      <p class="muted">
        Programs that use the jobs API send a key: <span class="mono">Authorization: Bearer hl_…</span>.{' '}
        <span class="mono">POST /api/jobs</span> needs the <span class="mono">jobs:write</span> scope,{' '}
        <span class="mono">GET /api/jobs/:id</span> needs <span class="mono">jobs:read</span>. Keys can also be made on a
        server with <span class="mono">npm run api-key -- create &lt;name&gt;</span>.
      </p>
      {created ? (
        <NewKey created={created} onDone={() => setCreated(null)} />
      ) : (
        <CreateForm
          onCreated={(key) => {
            setOutcome(null);
            setCreated(key);
            list.refresh();
          }}
        />
      )}
      <OutcomeMessage outcome={outcome} />
      <StaleNotice error={list.data ? list.error : null} />
      {list.loading && <Loading what="API keys" />}
      {!list.loading && !list.data && list.error && <ErrorPanel error={list.error} onRetry={list.refresh} />}
      {list.data && list.data.length === 0 && (
        <Empty title="No API keys yet.">
          <p>Create one above; a program then posts jobs with it.</p>
        </Empty>
      )}
      {list.data && list.data.length > 0 && <KeysTable keys={list.data} onRevoke={(key) => setRevoking(key)} />}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke key"
        message={`Revoke “${revoking?.name ?? ''}” (${revoking?.id ?? ''})? Programs using it get 403 from then on; this cannot be undone.`}
        confirmLabel="Revoke"
        danger
        busy={busy}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
    </div>
  );
}
