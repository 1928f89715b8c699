// The parts of Quay's table toolbar: a name filter, a kebab of actions on the selected rows,
// paging of a list held in the browser, a range of days.

import { useMemo, useState } from 'react';
import {
  Dropdown,
  DropdownItem,
  DropdownList,
  MenuToggle,
  Pagination,
  SearchInput,
  TextInput,
  ToolbarItem,
} from '@patternfly/react-core';
import { EllipsisVIcon } from '@patternfly/react-icons';

export function FilterInput({
  label,
  value,
  onChange,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
}) {
  return (
    <SearchInput
      aria-label={label}
      placeholder={label}
      value={value}
      onChange={(_, next) => onChange(next)}
      onClear={() => onChange('')}
    />
  );
}

export interface BulkAction {
  title: string;
  danger?: boolean;
  run: () => void;
}

/** The kebab of what to do with the selected rows; disabled while none is selected. */
export function BulkActions({ label, disabled, actions }: { label: string; disabled: boolean; actions: BulkAction[] }) {
  const [open, setOpen] = useState(false);
  return (
    <Dropdown
      isOpen={open}
      onOpenChange={setOpen}
      toggle={(ref) => (
        <MenuToggle
          ref={ref}
          variant="plain"
          aria-label={label}
          isDisabled={disabled}
          onClick={() => setOpen((now) => !now)}
          icon={<EllipsisVIcon />}
        />
      )}
    >
      <DropdownList>
        {actions.map((action) => (
          <DropdownItem
            key={action.title}
            isDanger={action.danger}
            onClick={() => {
              setOpen(false);
              action.run();
            }}
          >
            {action.title}
          </DropdownItem>
        ))}
      </DropdownList>
    </Dropdown>
  );
}

/** A list filtered by name and cut into pages in the browser, with its pagination control. */
export function useLocalPages<T>(items: T[] | undefined, name: (item: T) => string) {
  const [filter, setFilterText] = useState('');
  const [page, setPage] = useState(1);
  const [perPage, setPerPage] = useState(20);
  const shown = useMemo(
    () => (items ?? []).filter((item) => name(item).includes(filter.trim())),
    [items, filter, name],
  );
  const setFilter = (value: string) => {
    setFilterText(value);
    setPage(1);
  };
  const pagination = (
    <Pagination
      itemCount={shown.length}
      page={page}
      perPage={perPage}
      onSetPage={(_, next) => setPage(next)}
      onPerPageSelect={(_, next) => {
        setPerPage(next);
        setPage(1);
      }}
      isCompact
    />
  );
  return { filter, setFilter, shown, onPage: shown.slice((page - 1) * perPage, page * perPage), pagination };
}

/** Two days (`YYYY-MM-DD`, either empty for no bound), optionally kept within `earliest`..`latest`. */
export function DateRange({
  from,
  to,
  onChange,
  earliest,
  latest,
}: {
  from: string;
  to: string;
  onChange: (from: string, to: string) => void;
  earliest?: string;
  latest?: string;
}) {
  const clamp = (day: string) => (earliest && day && day < earliest ? earliest : latest && day > latest ? latest : day);
  return (
    <>
      <ToolbarItem>
        <TextInput
          type="date"
          aria-label="From date"
          min={earliest}
          max={to || latest}
          value={from}
          onChange={(_, day) => onChange(clamp(day), to)}
        />
      </ToolbarItem>
      <ToolbarItem>
        <TextInput
          type="date"
          aria-label="To date"
          min={from || earliest}
          max={latest}
          value={to}
          onChange={(_, day) => onChange(from, clamp(day))}
        />
      </ToolbarItem>
    </>
  );
}
