// The user / robot / team typeahead (`/api/v1/entities/{prefix}`), Quay's "Search for user,
// robot or team".

import { useEffect, useState } from 'react';
import { Menu, MenuContent, MenuItem, MenuList, Popper, SearchInput } from '@patternfly/react-core';
import { useRef } from 'react';
import { api, seg } from '../api';

export interface Entity {
  name: string;
  kind: 'user' | 'team' | 'org';
  is_robot?: boolean;
}

export const entityKind = (entity: Entity) =>
  entity.kind === 'team' ? 'Team' : entity.is_robot ? 'Robot account' : 'User';

export function EntitySearch({
  namespace,
  includeTeams = true,
  onSelect,
  label = 'Search for user, robot or team',
}: {
  namespace: string;
  includeTeams?: boolean;
  onSelect: (entity: Entity) => void;
  label?: string;
}) {
  const [text, setText] = useState('');
  const [found, setFound] = useState<Entity[]>([]);
  const [open, setOpen] = useState(false);
  const input = useRef<HTMLDivElement>(null);
  const menu = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const prefix = text.trim();
    if (!prefix) {
      setFound([]);
      return;
    }
    let current = true;
    const timer = window.setTimeout(() => {
      api
        .get<{ results: Entity[] }>(
          `/api/v1/entities/${seg(prefix)}?namespace=${seg(namespace)}&includeTeams=${includeTeams}`,
        )
        .then((answer) => {
          if (!current) return;
          setFound(answer.results);
          setOpen(true);
        })
        .catch(() => current && setFound([]));
    }, 150);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [text, namespace, includeTeams]);

  const choose = (entity: Entity) => {
    onSelect(entity);
    setText('');
    setOpen(false);
  };
  return (
    <Popper
      triggerRef={input}
      trigger={
        <div ref={input}>
          <SearchInput
            aria-label={label}
            placeholder={label}
            value={text}
            onChange={(_, value) => setText(value)}
            onClear={() => setText('')}
          />
        </div>
      }
      popperRef={menu}
      popper={
        <Menu ref={menu} onSelect={() => setOpen(false)}>
          <MenuContent>
            <MenuList aria-label="Matching accounts">
              {found.length === 0 ? (
                <MenuItem isDisabled>No matching user, robot or team</MenuItem>
              ) : (
                found.map((entity) => (
                  <MenuItem
                    key={`${entity.kind}-${entity.name}`}
                    description={entityKind(entity)}
                    onClick={() => choose(entity)}
                  >
                    {entity.name}
                  </MenuItem>
                ))
              )}
            </MenuList>
          </MenuContent>
        </Menu>
      }
      isVisible={open && text.trim() !== ''}
      onDocumentClick={(event) => {
        if (!menu.current?.contains(event?.target as Node) && !input.current?.contains(event?.target as Node)) {
          setOpen(false);
        }
      }}
    />
  );
}
