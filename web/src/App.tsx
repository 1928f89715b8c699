// The routes Quay's UI has, each behind the sign-in it needs.

import type { ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation, useParams } from 'react-router-dom';
import { Shell } from './components/Shell';
import { useSession } from './session';
import { SignIn } from './pages/SignIn';
import { OrganizationsList } from './pages/OrganizationsList';
import { Organization } from './pages/Organization';
import { RepositoriesList } from './pages/RepositoriesList';
import { Repository } from './pages/Repository';
import { TagDetails } from './pages/TagDetails';
import { TagCompare } from './pages/TagCompare';
import { Team } from './pages/Team';
import { UsageLogsPage } from './pages/UsageLogsPage';
import { NotFound } from './pages/NotFound';

function SignedIn({ children }: { children: ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  if (!user) {
    const back = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/signin?redirect=${back}`} replace />;
  }
  return <>{children}</>;
}

/** `/:namespace` and `/:namespace/:repository`, Quay's short links. */
function Shorthand() {
  const { first, second } = useParams();
  return second ? (
    <Navigate to={`/repository/${first}/${second}`} replace />
  ) : (
    <Navigate to={`/organization/${first}`} replace />
  );
}

export function App() {
  return (
    <Routes>
      <Route path="/signin" element={<SignIn />} />
      <Route
        element={
          <SignedIn>
            <Shell />
          </SignedIn>
        }
      >
        <Route path="/" element={<Navigate to="/organization" replace />} />
        <Route path="/organization" element={<OrganizationsList />} />
        <Route path="/organization/:org" element={<Organization />} />
        <Route path="/organization/:org/teams/:team" element={<Team />} />
        <Route path="/user/:org" element={<Organization />} />
        <Route path="/repository" element={<RepositoriesList />} />
        <Route path="/repository/:ns/:repo" element={<Repository />} />
        <Route path="/repository/:ns/:repo/tag/:tag" element={<TagDetails />} />
        <Route path="/repository/:ns/:repo/compare" element={<TagCompare />} />
        <Route path="/usage-logs" element={<UsageLogsPage />} />
        <Route path="/:first/:second?" element={<Shorthand />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
