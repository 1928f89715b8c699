import '@patternfly/react-core/dist/styles/base.css';
import './app.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import { App } from './App';
import { SessionProvider, type RegistryConfig } from './session';
import { ToastProvider } from './toasts';

async function boot() {
  const root = createRoot(document.getElementById('root')!);
  const response = await fetch('/config');
  if (!response.ok) {
    root.render(<p>This registry did not answer /config ({response.status}).</p>);
    return;
  }
  const config = (await response.json()) as RegistryConfig;
  document.title = config.config.REGISTRY_TITLE;
  root.render(
    <StrictMode>
      <BrowserRouter>
        <SessionProvider config={config}>
          <ToastProvider>
            <App />
          </ToastProvider>
        </SessionProvider>
      </BrowserRouter>
    </StrictMode>,
  );
}

void boot();
