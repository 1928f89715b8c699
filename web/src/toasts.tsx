// Every change ends in a toast: what happened, or what went wrong.

import { createContext, useCallback, useContext, useState, type ReactNode } from 'react';
import { Alert, AlertActionCloseButton, AlertGroup } from '@patternfly/react-core';

type Variant = 'success' | 'danger' | 'warning' | 'info';
interface Toast {
  id: number;
  variant: Variant;
  title: string;
}

const ToastContext = createContext<(variant: Variant, title: string) => void>(() => {});

export const useToast = () => useContext(ToastContext);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const add = useCallback((variant: Variant, title: string) => {
    const id = Date.now() + Math.random();
    setToasts((shown) => [...shown, { id, variant, title }]);
    window.setTimeout(() => setToasts((shown) => shown.filter((toast) => toast.id !== id)), 8000);
  }, []);
  return (
    <ToastContext.Provider value={add}>
      {children}
      <AlertGroup isToast isLiveRegion>
        {toasts.map((toast) => (
          <Alert
            key={toast.id}
            variant={toast.variant}
            title={toast.title}
            actionClose={
              <AlertActionCloseButton
                onClose={() => setToasts((shown) => shown.filter((other) => other.id !== toast.id))}
              />
            }
          />
        ))}
      </AlertGroup>
    </ToastContext.Provider>
  );
}
