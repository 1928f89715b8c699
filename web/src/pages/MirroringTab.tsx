// A repository's mirror (Quay's Mirroring tab): once it exists, its status; and the form that
// creates it ("Enable Mirror") or changes it ("Update Mirror").

import { useEffect, useState } from 'react';
import {
  ActionGroup,
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Checkbox,
  Content,
  ExpandableSection,
  Flex,
  FormGroup,
  FormSection,
  FormSelect,
  FormSelectOption,
  InputGroup,
  InputGroupItem,
  InputGroupText,
  Switch,
  TextInput,
} from '@patternfly/react-core';
import { api, messageOf } from '../api';
import { localInput } from '../format';
import { useApi, useLoad } from '../hooks';
import {
  INTERVAL_UNITS,
  intervalSeconds,
  isSyncing,
  mirrorPath,
  readMirror,
  splitInterval,
  splitList,
  utcStamp,
  type Mirror,
} from '../mirror';
import { useUser } from '../session';
import { useToast } from '../toasts';
import { FieldRule } from '../components/FormModal';
import { LoadError, Loading, SubmitForm } from '../components/common';
import type { RepositoryView } from './Repository';
import { robotsBase, type Robot } from './RobotAccounts';
import { MirrorStatus } from './MirrorStatus';

/** How often the status is read again while a sync runs. */
const POLL_MS = 3000;

export function MirroringTab({ repository }: { repository: RepositoryView }) {
  const { namespace, name } = repository;
  const { data: mirror, error, loading, reload } = useLoad(() => readMirror(namespace, name), [namespace, name]);
  const syncing = mirror ? isSyncing(mirror.sync_status) : false;

  // A running sync ends on the server: read its state again until it does.
  useEffect(() => {
    if (!syncing || loading) return;
    const timer = window.setTimeout(reload, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [syncing, loading, reload]);

  // A failed poll keeps what was shown; only the first read's failure replaces it.
  if (mirror === undefined) return error ? <LoadError error={error} /> : <Loading what="mirror" />;
  return (
    <Flex direction={{ default: 'column' }}>
      {mirror && <MirrorStatus repository={repository} mirror={mirror} onChange={reload} />}
      {/* Created, the form starts again from what the server kept. */}
      <MirrorForm key={mirror ? 'update' : 'create'} repository={repository} mirror={mirror} onSaved={reload} />
    </Flex>
  );
}

/** The form's fields, as typed (the password apart: it is never read back). */
interface Fields {
  enabled: boolean;
  reference: string;
  tags: string;
  start: string;
  amount: string;
  unit: string;
  robot: string;
  username: string;
  verifyTls: boolean;
  unsigned: boolean;
  httpProxy: string;
  httpsProxy: string;
  noProxy: string;
  timeout: string;
  platforms: string;
  removeStale: boolean;
  copyReferrers: boolean;
}

function fieldsOf(mirror: Mirror | null): Fields {
  const interval = splitInterval(mirror?.sync_interval ?? 86400);
  const proxy = mirror?.external_registry_config.proxy;
  return {
    enabled: mirror?.is_enabled ?? true,
    reference: mirror?.external_reference ?? '',
    tags: mirror?.root_rule.rule_value.join(', ') ?? '',
    start: localInput(mirror?.sync_start_date ? new Date(mirror.sync_start_date) : new Date()),
    amount: interval.amount,
    unit: interval.unit,
    robot: mirror?.robot_username ?? '',
    username: mirror?.external_registry_username ?? '',
    verifyTls: mirror?.external_registry_config.verify_tls ?? true,
    unsigned: mirror?.external_registry_config.unsigned_images ?? false,
    httpProxy: proxy?.http_proxy ?? '',
    httpsProxy: proxy?.https_proxy ?? '',
    noProxy: proxy?.no_proxy ?? '',
    timeout: String(mirror?.skopeo_timeout_interval ?? 300),
    platforms: mirror?.platforms.join(', ') ?? '',
    removeStale: mirror?.remove_stale_tags ?? false,
    copyReferrers: mirror?.copy_referrers ?? true,
  };
}

/** The fields as the API takes them (the password apart). */
function bodyOf(fields: Fields): Record<string, unknown> {
  return {
    is_enabled: fields.enabled,
    external_reference: fields.reference.trim(),
    external_registry_username: fields.username.trim() || null,
    external_registry_config: {
      verify_tls: fields.verifyTls,
      unsigned_images: fields.unsigned,
      proxy: {
        http_proxy: fields.httpProxy.trim() || null,
        https_proxy: fields.httpsProxy.trim() || null,
        no_proxy: fields.noProxy.trim() || null,
      },
    },
    sync_interval: intervalSeconds(fields.amount, fields.unit),
    sync_start_date: fields.start ? utcStamp(fields.start) : null,
    root_rule: { rule_kind: 'tag_glob_csv', rule_value: splitList(fields.tags) },
    robot_username: fields.robot,
    skopeo_timeout_interval: Number(fields.timeout),
    platforms: splitList(fields.platforms),
    remove_stale_tags: fields.removeStale,
    copy_referrers: fields.copyReferrers,
  };
}

/** What an update sends: the fields changed since the form was filled, the PUT being partial. */
function changesOf(from: Fields, to: Fields): Record<string, unknown> {
  const before = bodyOf(from);
  return Object.fromEntries(
    Object.entries(bodyOf(to)).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(before[key])),
  );
}

const same = (a: Fields, b: Fields) => JSON.stringify(a) === JSON.stringify(b);

function MirrorForm({
  repository,
  mirror,
  onSaved,
}: {
  repository: RepositoryView;
  mirror: Mirror | null;
  onSaved: () => void;
}) {
  const toast = useToast();
  const user = useUser();
  const { namespace, name } = repository;
  // `base` is what the form was filled from; `fields` what it holds now.
  const [base, setBase] = useState(() => fieldsOf(mirror));
  const [fields, setFields] = useState(base);
  const [password, setPassword] = useState('');
  const [advanced, setAdvanced] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);

  // The server moves the next sync date after each sync: an untouched form follows it, an
  // edited one keeps the user's words.
  useEffect(() => {
    const next = fieldsOf(mirror);
    if (same(fields, base) && !same(next, base)) {
      setBase(next);
      setFields(next);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mirror]);

  // Robots of another user's namespace are not ours to list; the saved one stays offered.
  const robotsPath = repository.is_organization
    ? `${robotsBase(namespace, true)}?token=false`
    : namespace === user.username
      ? `${robotsBase(namespace, false)}?token=false`
      : null;
  const { data: robots } = useApi<{ robots: Robot[] }>(robotsPath);
  const robotNames = (robots?.robots ?? []).map((robot) => robot.name);
  if (fields.robot && !robotNames.includes(fields.robot)) robotNames.unshift(fields.robot);

  const set =
    <K extends keyof Fields>(key: K) =>
    (value: Fields[K]) =>
      setFields((now) => ({ ...now, [key]: value }));
  const text = (key: { [K in keyof Fields]: Fields[K] extends string ? K : never }[keyof Fields]) => ({
    value: fields[key],
    onChange: (_: unknown, value: string) => set(key)(value),
  });
  const flag = (key: { [K in keyof Fields]: Fields[K] extends boolean ? K : never }[keyof Fields]) => ({
    isChecked: fields[key],
    onChange: (_: unknown, on: boolean) => set(key)(on),
  });

  const patterns = splitList(fields.tags);
  const startTime = fields.start ? new Date(fields.start).getTime() : NaN;
  const interval = intervalSeconds(fields.amount, fields.unit);
  const timeout = Number(fields.timeout);
  const timeoutBroken = !Number.isInteger(timeout) || timeout < 300;
  const valid =
    fields.reference.trim() !== '' &&
    patterns.length > 0 &&
    !Number.isNaN(startTime) &&
    interval > 0 &&
    fields.robot !== '' &&
    !timeoutBroken;
  const changes = mirror ? changesOf(base, fields) : bodyOf(fields);
  // An empty password keeps the saved one, unless the username is cleared: then both go.
  if (password) changes.external_registry_password = password;
  else if (!mirror || changes.external_registry_username === null) changes.external_registry_password = null;
  const changed = Object.keys(changes).length > 0;

  const save = async () => {
    setProblem(undefined);
    setBusy(true);
    try {
      const path = mirrorPath(namespace, name);
      if (mirror) await api.put(path, changes);
      else await api.post(path, changes);
      toast('success', mirror ? 'Mirror configuration updated' : `Mirroring of ${fields.reference.trim()} enabled`);
      // What was saved is what the server now holds: its answer may refill the form.
      setBase(fields);
      setPassword('');
      onSaved();
    } catch (failure) {
      setProblem(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card>
      <CardTitle component="h2">{mirror ? 'Configuration' : 'External Repository'}</CardTitle>
      <CardBody>
        <Content component="p">
          {mirror
            ? 'This repository is configured as a mirror. While enabled, the registry copies the matching tags of the external repository on the schedule below; Sync Now copies them at once.'
            : `This feature will convert ${namespace}/${name} into a mirror: the tags of the external repository that match the patterns are copied here, on a schedule and on demand.`}
        </Content>
        <SubmitForm
          className="pf-m-limit-width"
          testId="mirror-form"
          onSubmit={() => {
            if (valid && changed && !busy) void save();
          }}
        >
          <FormGroup fieldId="mirror-enabled">
            <Switch
              id="mirror-enabled"
              label="Enabled"
              {...flag('enabled')}
              // Its visible label is aria-hidden: without a name of its own, axe reads the
              // description as its only label (label-title-only).
              aria-label="Enabled"
              aria-describedby="mirror-enabled-help"
            />
            <Content component="small" id="mirror-enabled-help">
              {fields.enabled
                ? 'Scheduled mirroring enabled. Immediate sync available via Sync Now.'
                : 'Scheduled mirroring disabled. Immediate sync available via Sync Now.'}
            </Content>
          </FormGroup>
          <FormGroup label="Registry Location" fieldId="mirror-reference" isRequired>
            <TextInput id="mirror-reference" placeholder="quay.io/redhat/quay" {...text('reference')} />
          </FormGroup>
          <FormGroup label="Tags" fieldId="mirror-tags" isRequired>
            <TextInput id="mirror-tags" placeholder="Examples: latest, 3.3*, *" {...text('tags')} />
            <FieldRule broken={false}>Comma-separated list of tag patterns to synchronize.</FieldRule>
          </FormGroup>
          <FormGroup label={mirror ? 'Next Sync Date' : 'Start Date'} fieldId="mirror-start" isRequired>
            <TextInput id="mirror-start" type="datetime-local" {...text('start')} />
            <FieldRule broken={false}>Local date and time of the first scheduled sync.</FieldRule>
          </FormGroup>
          <FormGroup label="Sync Interval" fieldId="mirror-interval" isRequired>
            <InputGroup>
              <InputGroupItem isFill>
                <TextInput id="mirror-interval" type="number" min={1} {...text('amount')} />
              </InputGroupItem>
              <InputGroupItem>
                <FormSelect
                  aria-label="Unit of the sync interval"
                  value={fields.unit}
                  onChange={(_, value) => set('unit')(value)}
                >
                  {INTERVAL_UNITS.map(([unit]) => (
                    <FormSelectOption key={unit} value={unit} label={unit} />
                  ))}
                </FormSelect>
              </InputGroupItem>
            </InputGroup>
          </FormGroup>
          <FormGroup label="Robot User" fieldId="mirror-robot" isRequired>
            <FormSelect id="mirror-robot" value={fields.robot} onChange={(_, value) => set('robot')(value)}>
              <FormSelectOption value="" label="Select a robot account" isPlaceholder />
              {robotNames.map((robot) => (
                <FormSelectOption key={robot} value={robot} label={robot} />
              ))}
            </FormSelect>
            <FieldRule broken={false}>
              The mirror writes tags as this robot account; it needs write permission on the repository.
            </FieldRule>
          </FormGroup>
          <FormSection title="Credentials" titleElement="h3">
            <Content component="small">Required if the external repository is private.</Content>
            <FormGroup label="Username" fieldId="mirror-username">
              <TextInput id="mirror-username" autoComplete="off" {...text('username')} />
            </FormGroup>
            <FormGroup label="Password" fieldId="mirror-password">
              <TextInput
                id="mirror-password"
                type="password"
                autoComplete="new-password"
                value={password}
                onChange={(_, value) => setPassword(value)}
              />
              {mirror && <FieldRule broken={false}>Leave empty to keep the saved password.</FieldRule>}
            </FormGroup>
          </FormSection>
          <ExpandableSection
            toggleText="Advanced settings"
            isExpanded={advanced}
            onToggle={(_, open) => setAdvanced(open)}
          >
            <Flex direction={{ default: 'column' }} spaceItems={{ default: 'spaceItemsMd' }}>
              <Checkbox
                id="mirror-verify-tls"
                label="Verify TLS"
                description="Require HTTPS and verify certificates when talking to the external registry."
                {...flag('verifyTls')}
              />
              <Checkbox
                id="mirror-unsigned"
                label="Accept Unsigned Images"
                description="Allow unsigned images to be mirrored."
                {...flag('unsigned')}
              />
              <FormGroup label="HTTP Proxy" fieldId="mirror-http-proxy">
                <TextInput id="mirror-http-proxy" placeholder="proxy.example.com" {...text('httpProxy')} />
              </FormGroup>
              <FormGroup label="HTTPS Proxy" fieldId="mirror-https-proxy">
                <TextInput id="mirror-https-proxy" placeholder="proxy.example.com" {...text('httpsProxy')} />
              </FormGroup>
              <FormGroup label="No Proxy" fieldId="mirror-no-proxy">
                <TextInput id="mirror-no-proxy" placeholder="example.com" {...text('noProxy')} />
              </FormGroup>
              <FormGroup label="Skopeo timeout" fieldId="mirror-timeout">
                <InputGroup>
                  <InputGroupItem isFill>
                    <TextInput
                      id="mirror-timeout"
                      type="number"
                      min={300}
                      validated={timeoutBroken ? 'error' : 'default'}
                      {...text('timeout')}
                    />
                  </InputGroupItem>
                  <InputGroupItem isPlain>
                    <InputGroupText>seconds</InputGroupText>
                  </InputGroupItem>
                </InputGroup>
                <FieldRule broken={timeoutBroken}>
                  At least 300 seconds (5 minutes). Kept as Quay keeps it, not yet enforced here: each request to the
                  external registry has its own timeouts (5 seconds to connect, 30 without data).
                </FieldRule>
              </FormGroup>
              <FormGroup label="Platforms" fieldId="mirror-platforms">
                <TextInput id="mirror-platforms" placeholder="linux/amd64, linux/arm64" {...text('platforms')} />
                <FieldRule broken={false}>
                  Comma-separated; of a multi-platform image only these are copied. Empty: every platform.
                </FieldRule>
              </FormGroup>
              <Checkbox
                id="mirror-remove-stale"
                label="Remove tags that are gone upstream"
                description="A tag matching the patterns that the external repository no longer has is removed here."
                {...flag('removeStale')}
              />
              <Checkbox
                id="mirror-copy-referrers"
                label="Copy signatures, SBOMs and attestations (referrers)"
                description="The artifacts that refer to a copied image come with it."
                {...flag('copyReferrers')}
              />
            </Flex>
          </ExpandableSection>
          {problem && <Alert variant="danger" isInline title={problem} />}
          <ActionGroup>
            <Button
              type="submit"
              data-testid="save-mirror-btn"
              isDisabled={!valid || !changed || busy}
              isLoading={busy}
            >
              {mirror ? 'Update Mirror' : 'Enable Mirror'}
            </Button>
          </ActionGroup>
        </SubmitForm>
      </CardBody>
    </Card>
  );
}
