import { Component, type ErrorInfo, type ReactNode } from 'react';
import { ErrorNote } from './ui.tsx';

/**
 * Keeps a page's failure inside the content area: the menu and the banner stay, and moving to
 * another page (the layout keys this by path) starts afresh. A part of the console that failed to
 * load (the server was gone when it was asked for) needs the page reloaded.
 */
export class PageErrorBoundary extends Component<{ children: ReactNode }, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.warn('page failed', error, info.componentStack);
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    const chunk = this.state.error instanceof Error && /dynamically imported module|Importing a module script failed|error loading/i.test(this.state.error.message);
    return (
      <div className="page-error">
        <ErrorNote
          error={chunk ? new Error('This page could not be loaded from the server.') : this.state.error}
          onRetry={() => (chunk ? location.reload() : this.setState({ error: null }))}
        />
      </div>
    );
  }
}
