/** The dashboard shell: header (navigation, API token, live-connection state) and the routed view. */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getToken, gql, setToken, useSocketState } from './api.js';
import './style.css';
import { ErrorBanner, href, useRoute } from './ui.js';
import { Compare } from './views/compare.js';
import { Results } from './views/results.js';
import { RunDetail } from './views/run.js';
import { Runs } from './views/runs.js';
import { StartRun } from './views/start.js';

function TokenForm() {
  const [value, setValue] = useState(getToken());
  const [needed, setNeeded] = useState(false);
  useEffect(() => {
    // Does the server want a token we do not have (or refuse the one we have)?
    const check = (): void =>
      void gql('{ __typename }').then(
        () => setNeeded(false),
        (err: unknown) => setNeeded(err instanceof ApiError && err.unauthenticated),
      );
    check();
    const t = setInterval(check, 10_000);
    return () => clearInterval(t);
  }, []);
  return (
    <form
      class={needed ? 'token needed' : 'token'}
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value);
        setNeeded(false);
      }}
    >
      <label for="api-token">API token</label>
      <input id="api-token" type="password" autocomplete="off" value={value} placeholder={needed ? 'required by this server' : 'not needed on loopback'} onInput={(e) => setValue(e.currentTarget.value)} aria-describedby={needed ? 'token-needed' : undefined} />
      <button type="submit">{value ? 'Use' : 'Forget'}</button>
      {needed && (
        <span id="token-needed" class="field-error" role="status">
          This server needs an API token.
        </span>
      )}
    </form>
  );
}

function Connection() {
  const s = useSocketState();
  const text = { idle: 'live: idle', connecting: 'live: connecting…', connected: 'live', closed: 'live: reconnecting', refused: 'live: token refused' }[s];
  return (
    <span id="socket-state" class={`socket socket-${s}`} data-state={s} role="status">
      {text}
    </span>
  );
}

function App() {
  const route = useRoute();
  const [page, a, b] = route;
  let view;
  let section = 'runs';
  if (page === 'run' && a) view = <RunDetail id={a} tab={b} />;
  else if (page === 'compare') {
    section = 'compare';
    view = <Compare ids={(a ?? '').split(',').filter(Boolean)} />;
  } else if (page === 'start') {
    section = 'start';
    view = <StartRun kind={a ?? 'sft'} />;
  } else if (page === 'results') {
    section = 'results';
    view = <Results />;
  } else view = <Runs />;
  // A new view moves the focus to it (not on the first load: the skip link comes first then).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else document.getElementById('main')?.focus({ preventScroll: true });
  }, [route.join('/')]);
  const nav: Array<[string, string, string]> = [
    ['runs', 'Runs', href('runs')],
    ['start', 'Start a run', href('start', 'sft')],
    ['compare', 'Compare', href('compare')],
    ['results', 'Reproduce results', href('results')],
  ];
  return (
    <>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault(); // the hash is the router's
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('runs')}>
          MedAD-R1
        </a>
        <nav aria-label="Sections">
          {nav.map(([id, label, to]) => (
            <a href={to} aria-current={id === section ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <Connection />
        <TokenForm />
      </header>
      <ErrorBanner />
      <main id="main" tabIndex={-1}>
        {view}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
