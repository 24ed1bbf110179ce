// Sign in with an API key. The key goes to the server once and is exchanged for a session
// cookie the page cannot read; it is not kept in the browser. When a session the page held has
// ended (signed out here, expired, revoked), a notice says so above the form.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, signIn, type Session } from '../api.ts';

export function SignInPage({ onSignedIn, notice }: { onSignedIn: (session: Session) => void; notice?: string | null }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [isBusy, setIsBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Rollcall';
    input.current?.focus();
  }, []);
  return (
    <main id="main" class="sign-in">
      <form
        class="card sign-in-card"
        aria-labelledby="sign-in-title"
        onSubmit={async (event) => {
          event.preventDefault();
          setIsBusy(true);
          setError(null);
          try {
            onSignedIn(await signIn(key));
          } catch (failure) {
            setError(failure instanceof ApiFailure && failure.status === 401 ? 'This API key is unknown or revoked.' : (failure as Error).message);
            input.current?.focus();
          } finally {
            setIsBusy(false);
          }
        }}
      >
        <h1 id="sign-in-title">Sign in to Rollcall</h1>
        {notice ? <p id="sign-in-notice" class="notice notice-info" role="status">{notice}</p> : null}
        <p class="hint">Use an API key. Create one on the server with <code>npx rollcall keys create --user &lt;name&gt;</code>.</p>
        <label for="api-key">API key</label>
        <input
          id="api-key"
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={key}
          aria-invalid={error !== null}
          aria-describedby={[notice ? 'sign-in-notice' : '', error ? 'sign-in-error' : ''].filter(Boolean).join(' ') || undefined}
          onInput={(event) => setKey(event.currentTarget.value)}
        />
        <p id="sign-in-error" class="field-error" role="alert">{error ?? ''}</p>
        <button type="submit" class="button button-primary" disabled={isBusy || key.trim() === ''}>{isBusy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  );
}
