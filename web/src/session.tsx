// What every page knows: the registry's setup (`/config`) and who is signed in.

import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, setCsrfToken } from './api';

export interface RegistryConfig {
  config: {
    SERVER_HOSTNAME: string;
    PREFERRED_URL_SCHEME: string;
    REGISTRY_TITLE: string;
    REGISTRY_TITLE_SHORT: string;
    PERMANENTLY_DELETE_TAGS: boolean;
    TAG_EXPIRATION_OPTIONS_S: number[];
  };
  features: Record<string, boolean>;
  registry_state: string;
  version_number: string;
}

export interface CurrentUser {
  username: string;
  email: string | null;
  super_user: boolean;
  organizations: { name: string; is_org_admin: boolean }[];
  can_create_repo: boolean;
  tag_expiration_s: number;
}

interface Session {
  config: RegistryConfig;
  /** `null` when nobody is signed in. */
  user: CurrentUser | null;
  /** Reads the user again (after signing in, joining an organization, ...). */
  refresh: () => Promise<void>;
  feature: (name: string) => boolean;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The signed-in user, for pages that are only reached signed in. */
export function useUser(): CurrentUser {
  const { user } = useSession();
  if (!user) throw new Error('useUser without a signed-in user');
  return user;
}

async function readUser(): Promise<CurrentUser | null> {
  try {
    return await api.get<CurrentUser>('/api/v1/user/');
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return null;
    throw error;
  }
}

export function SessionProvider({ config, children }: { config: RegistryConfig; children: ReactNode }) {
  const [user, setUser] = useState<CurrentUser | null | undefined>(undefined);
  const refresh = useCallback(async () => {
    const token = await api.get<{ csrf_token: string | null }>('/csrf_token');
    setCsrfToken(token.csrf_token);
    // No token means no session: nobody to ask `/api/v1/user/` about.
    setUser(token.csrf_token ? await readUser() : null);
  }, []);
  useEffect(() => {
    refresh().catch(() => setUser(null));
  }, [refresh]);
  if (user === undefined) return null;
  const feature = (name: string) => config.features[name] === true;
  return <SessionContext.Provider value={{ config, user, refresh, feature }}>{children}</SessionContext.Provider>;
}

/** `host[:port]` as clients name this registry in pull commands. */
export function useRegistryHost(): string {
  return useSession().config.config.SERVER_HOSTNAME;
}
