// The frame of every signed-in page: masthead (title, notifications, user menu) and sidebar.

import { useEffect, useState } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router-dom';
import {
  Badge,
  Button,
  Dropdown,
  DropdownItem,
  DropdownList,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadMain,
  MastheadToggle,
  MenuToggle,
  Nav,
  NavExpandable,
  NavItem,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  PageToggleButton,
  SkipToContent,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from '@patternfly/react-core';
import { BarsIcon, BellIcon, MoonIcon, SunIcon } from '@patternfly/react-icons';
import { api } from '../api';
import { useSession, useUser } from '../session';
import { FreshLogin } from './FreshLogin';
import { NotificationsDrawer, type UserNotification } from './NotificationsDrawer';

function useTheme(): [boolean, () => void] {
  const [dark, setDark] = useState(() => localStorage.getItem('quay-theme') === 'dark');
  useEffect(() => {
    document.documentElement.classList.toggle('pf-v6-theme-dark', dark);
    localStorage.setItem('quay-theme', dark ? 'dark' : 'light');
  }, [dark]);
  return [dark, () => setDark((on) => !on)];
}

export function Shell() {
  const { config, refresh } = useSession();
  const user = useUser();
  const navigate = useNavigate();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [notifications, setNotifications] = useState<UserNotification[]>([]);
  const [dark, toggleTheme] = useTheme();

  const loadNotifications = () =>
    api
      .get<{ notifications: UserNotification[] }>('/api/v1/user/notifications')
      .then((answer) => setNotifications(answer.notifications))
      .catch(() => setNotifications([]));
  useEffect(() => {
    void loadNotifications();
  }, [location.pathname]);

  const signOut = async () => {
    await api.post('/api/v1/signout');
    await refresh();
    navigate('/signin');
  };
  const unread = notifications.filter((notification) => !notification.dismissed).length;

  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <PageToggleButton variant="plain" aria-label="Global navigation">
            <BarsIcon />
          </PageToggleButton>
        </MastheadToggle>
        <MastheadBrand>
          <Link to="/organization" className="quay-brand">
            {config.config.REGISTRY_TITLE}
          </Link>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarGroup align={{ default: 'alignEnd' }}>
              <ToolbarItem>
                <Button
                  variant="plain"
                  aria-label={dark ? 'Switch to the light theme' : 'Switch to the dark theme'}
                  onClick={toggleTheme}
                  icon={dark ? <SunIcon /> : <MoonIcon />}
                />
              </ToolbarItem>
              <ToolbarItem>
                <Button
                  variant="plain"
                  aria-label={`Notifications, ${unread} unread`}
                  data-testid="notifications-bell"
                  onClick={() => setDrawerOpen((open) => !open)}
                  icon={<BellIcon />}
                >
                  {unread > 0 && <Badge isRead={false}>{unread}</Badge>}
                </Button>
              </ToolbarItem>
              <ToolbarItem>
                <Dropdown
                  isOpen={menuOpen}
                  onOpenChange={setMenuOpen}
                  popperProps={{ position: 'right' }}
                  toggle={(ref) => (
                    <MenuToggle
                      ref={ref}
                      onClick={() => setMenuOpen((open) => !open)}
                      isExpanded={menuOpen}
                      data-testid="user-menu-toggle"
                    >
                      {user.username}
                    </MenuToggle>
                  )}
                >
                  <DropdownList>
                    <DropdownItem key="settings" onClick={() => navigate(`/user/${user.username}?tab=settings`)}>
                      Account Settings
                    </DropdownItem>
                    <DropdownItem key="signout" onClick={signOut}>
                      Sign out
                    </DropdownItem>
                  </DropdownList>
                </Dropdown>
              </ToolbarItem>
            </ToolbarGroup>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );

  const at = (path: string) => location.pathname.startsWith(path);
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Main">
          <NavList>
            <NavItem isActive={at('/organization') || at('/user/')}>
              <Link to="/organization">Organizations</Link>
            </NavItem>
            <NavItem isActive={at('/repository')}>
              <Link to="/repository">Repositories</Link>
            </NavItem>
            {user.super_user && (
              <NavExpandable title="Superuser" isExpanded={at('/usage-logs')}>
                <NavItem isActive={at('/usage-logs')}>
                  <Link to="/usage-logs">Usage Logs</Link>
                </NavItem>
              </NavExpandable>
            )}
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );

  return (
    <Page
      masthead={masthead}
      sidebar={sidebar}
      isManagedSidebar
      skipToContent={<SkipToContent href="#main">Skip to content</SkipToContent>}
      mainContainerId="main"
      notificationDrawer={
        <NotificationsDrawer
          notifications={notifications}
          onClose={() => setDrawerOpen(false)}
          onChange={loadNotifications}
        />
      }
      isNotificationDrawerExpanded={drawerOpen}
    >
      <Outlet />
      <FreshLogin />
    </Page>
  );
}
