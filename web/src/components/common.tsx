// Pieces every page uses: its heading, a confirmation, the quota bar, a copyable command.

import { useState, type ComponentProps, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import {
  Alert,
  Breadcrumb,
  BreadcrumbItem,
  Button,
  ClipboardCopy,
  Form,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  PageSection,
  Progress,
  ProgressMeasureLocation,
  ProgressVariant,
  Spinner,
  Tabs,
  TextInput,
  Title,
} from '@patternfly/react-core';
import { formatBytes, formatPercent } from '../format';
import { messageOf } from '../api';

export function PageHeader({
  title,
  crumbs = [],
  children,
}: {
  title: ReactNode;
  crumbs?: { label: string; to: string }[];
  children?: ReactNode;
}) {
  return (
    <PageSection>
      {crumbs.length > 0 && (
        <Breadcrumb>
          {crumbs.map((crumb) => (
            <BreadcrumbItem key={crumb.to} render={() => <Link to={crumb.to}>{crumb.label}</Link>} />
          ))}
        </Breadcrumb>
      )}
      <Title headingLevel="h1">{title}</Title>
      {children}
    </PageSection>
  );
}

export function Loading({ what }: { what: string }) {
  return <Spinner size="lg" aria-label={`Loading ${what}`} />;
}

export function LoadError({ error }: { error: string }) {
  return <Alert variant="danger" isInline title={error} />;
}

/**
 * Asks before a change that cannot be taken back. With `typed`, the user must type that word
 * (Quay's bulk delete asks for "confirm").
 */
export function ConfirmModal({
  title,
  children,
  action,
  danger = true,
  typed,
  onConfirm,
  onClose,
}: {
  title: string;
  children: ReactNode;
  action: string;
  danger?: boolean;
  typed?: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [text, setText] = useState('');
  const confirm = async () => {
    setBusy(true);
    try {
      await onConfirm();
      onClose();
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  };
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="confirm-title">
      <ModalHeader title={title} labelId="confirm-title" titleIconVariant={danger ? 'warning' : undefined} />
      <ModalBody>
        {error && <Alert variant="danger" isInline title={error} />}
        {children}
        {typed && (
          <TextInput
            aria-label={`Type ${typed} to continue`}
            placeholder={`Type "${typed}" to continue`}
            value={text}
            onChange={(_, value) => setText(value)}
          />
        )}
      </ModalBody>
      <ModalFooter>
        <Button
          variant={danger ? 'danger' : 'primary'}
          onClick={confirm}
          isLoading={busy}
          isDisabled={busy || (typed !== undefined && text !== typed)}
        >
          {action}
        </Button>
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

export interface QuotaReport {
  quota_bytes: number;
  configured_quota: number | null;
}

export interface QuotaLimit {
  type: 'Warning' | 'Reject';
  limit_percent: number;
}

/**
 * Bytes used, as text ("1.50 MiB (45%) of 10.00 MiB") and as a bar that turns warning at the
 * quota's Warning limit and danger at its Reject limit: never colour alone.
 */
export function QuotaBar({
  report,
  limits = [],
  label,
}: {
  report: QuotaReport;
  limits?: QuotaLimit[];
  label: string;
}) {
  const percentOf = (type: QuotaLimit['type']) => limits.find((limit) => limit.type === type)?.limit_percent;
  const warningPercent = percentOf('Warning');
  const rejectPercent = percentOf('Reject');
  const limit = report.configured_quota;
  if (!limit) return <span>{formatBytes(report.quota_bytes)}</span>;
  const percent = Math.min(100, (report.quota_bytes / limit) * 100);
  const variant =
    rejectPercent !== undefined && percent >= rejectPercent
      ? ProgressVariant.danger
      : warningPercent !== undefined && percent >= warningPercent
        ? ProgressVariant.warning
        : undefined;
  const state =
    variant === ProgressVariant.danger ? ' (over the limit)' : variant === ProgressVariant.warning ? ' (warning)' : '';
  const text = `${formatBytes(report.quota_bytes)} (${formatPercent(report.quota_bytes, limit)}) of ${formatBytes(limit)}${state}`;
  return (
    <Progress
      value={percent}
      title={label}
      label={text}
      valueText={text}
      measureLocation={ProgressMeasureLocation.outside}
      variant={variant}
      aria-label={label}
      data-testid="quota-bar"
      data-variant={variant ?? 'normal'}
    />
  );
}

/** A command to paste elsewhere, with the copy button Quay labels. */
export function CopyCommand({ command, testId }: { command: string; testId?: string }) {
  return (
    <ClipboardCopy
      isReadOnly
      hoverTip="Copy pull spec to clipboard"
      clickTip="Copied to clipboard!"
      data-testid={testId}
      textAriaLabel={command}
      toggleAriaLabel="Show the whole command"
    >
      {command}
    </ClipboardCopy>
  );
}

/** A form that runs `onSubmit` on Enter or its submit button, never reloading the page. */
export function SubmitForm({
  onSubmit,
  className,
  testId,
  children,
}: {
  onSubmit: () => void;
  className?: string;
  testId?: string;
  children: ReactNode;
}) {
  return (
    <Form
      className={className}
      data-testid={testId}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </Form>
  );
}

/** A table row's red action link (Delete, Remove, Revoke). */
export function DangerLink({
  onClick,
  children = 'Delete',
  label,
}: {
  onClick: () => void;
  children?: ReactNode;
  label?: string;
}) {
  return (
    <Button variant="link" isDanger onClick={onClick} aria-label={label}>
      {children}
    </Button>
  );
}

/** Settings as Quay lays them out: a vertical list of tabs beside the open one. */
export function SettingsTabs({
  label,
  initial,
  children,
}: {
  label: string;
  initial: string;
  children: ComponentProps<typeof Tabs>['children'];
}) {
  const [tab, setTab] = useState<string | number>(initial);
  return (
    <div className="quay-vertical-tabs">
      <Tabs isVertical activeKey={tab} onSelect={(_, key) => setTab(key)} aria-label={label} mountOnEnter unmountOnExit>
        {children}
      </Tabs>
    </div>
  );
}
