// Each page of the console is its own script, fetched when the page is first opened: the first load ships
// only the shell (the sign-in page, the header, the catalogues) and the page the user lands on.
import { Component, lazy, Suspense, type ComponentType, type ReactNode } from "react";
import { useI18n } from "./i18n";

/** A page component of a module loaded on first use: `lazyPage(() => import("./pages/Lines"), "Lines")`. */
// `any` as React's own ComponentType defaults to: the props stay the page's, checked where it is used.
export function lazyPage<M extends Record<K, ComponentType<any>>, K extends keyof M>(load: () => Promise<M>, name: K) {
  return lazy(async () => ({ default: (await load())[name] }));
}

/** What shows while a page's script loads: a polite, translated status in the page's main landmark. */
export function PageLoading() {
  const { t } = useI18n();
  return (
    <main id="main" aria-busy="true">
      <p role="status" className="page-loading">
        {t("common.loading")}
      </p>
    </main>
  );
}

function PageLoadFailed() {
  const { t } = useI18n();
  return (
    <main id="main">
      <p role="alert" className="error">
        {t("app.pageLoadFailed")}
      </p>
      <button type="button" onClick={() => window.location.reload()}>
        {t("app.reload")}
      </button>
    </main>
  );
}

/**
 * A page whose script cannot be fetched (offline, or a new version deployed meanwhile) says so instead of
 * leaving a blank screen; going to another page tries again.
 */
class PageBoundary extends Component<{ path: string; children: ReactNode }, { failed: boolean; path: string }> {
  state = { failed: false, path: this.props.path };

  static getDerivedStateFromProps(props: { path: string }, state: { path: string }) {
    return props.path === state.path ? null : { failed: false, path: props.path };
  }

  static getDerivedStateFromError() {
    return { failed: true };
  }

  render() {
    return this.state.failed ? <PageLoadFailed /> : this.props.children;
  }
}

/** Wraps the current page: the state shown while its script loads, and the message if it cannot. */
export function PageFrame({ path, children }: { path: string; children: ReactNode }) {
  return (
    <PageBoundary path={path}>
      <Suspense fallback={<PageLoading />}>{children}</Suspense>
    </PageBoundary>
  );
}
