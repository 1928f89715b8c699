// Two tags side by side: which layers they share, which were added or removed (with sizes),
// how their configuration differs, and the history that built each. "What changed between
// v1.4 and v1.5" on one page.

import type { ReactNode } from 'react';
import { useSearchParams, useParams } from 'react-router-dom';
import {
  Content,
  Flex,
  FlexItem,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Label,
  PageSection,
  TextInput,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { formatBytes, shortDigest } from '../format';
import { useLoad } from '../hooks';
import { LoadError, Loading, PageHeader } from '../components/common';
import { activeTag, imageConfig, resolveImage, type ImageConfig, type ImageManifest } from '../tags';

interface Side {
  tag: string;
  digest: string;
  image: ImageManifest;
  config?: ImageConfig;
  platforms: string[];
  platform?: string;
}

async function loadSide(namespace: string, repository: string, tag: string, platform?: string): Promise<Side> {
  const found = await activeTag(namespace, repository, tag);
  if (!found) throw new Error(`Tag ${tag} does not exist.`);
  const resolved = await resolveImage(namespace, repository, found.manifest_digest, platform);
  const config = await imageConfig(namespace, repository, resolved.digest).catch(() => undefined);
  return { tag, ...resolved, config };
}

type Change = 'shared' | 'added' | 'removed';

export interface LayerChange {
  digest: string;
  size: number;
  change: Change;
}

/** Layers of `a` and `b` by digest: in both, only in `b` (added), only in `a` (removed). */
function compareLayers(a: ImageManifest, b: ImageManifest): LayerChange[] {
  const before = new Set(a.layers.map((layer) => layer.digest));
  const after = new Set(b.layers.map((layer) => layer.digest));
  return [
    ...b.layers.map((layer) => ({
      digest: layer.digest,
      size: layer.size,
      change: (before.has(layer.digest) ? 'shared' : 'added') as Change,
    })),
    ...a.layers
      .filter((layer) => !after.has(layer.digest))
      .map((layer) => ({ digest: layer.digest, size: layer.size, change: 'removed' as Change })),
  ];
}

const show = (value: unknown): string => {
  if (value === undefined || value === null || value === '') return '(none)';
  if (Array.isArray(value)) return value.join(' ');
  if (typeof value === 'object') return Object.keys(value as object).length ? JSON.stringify(value, null, 1) : '(none)';
  return String(value);
};

const CONFIG_FIELDS: [string, (config?: ImageConfig) => unknown][] = [
  ['Entrypoint', (config) => config?.config?.Entrypoint],
  ['Command', (config) => config?.config?.Cmd],
  ['Environment', (config) => config?.config?.Env?.join('\n')],
  [
    'Labels',
    (config) =>
      Object.entries(config?.config?.Labels ?? {})
        .map(([key, value]) => `${key}=${value}`)
        .join('\n'),
  ],
  ['User', (config) => config?.config?.User],
  ['Exposed ports', (config) => Object.keys(config?.config?.ExposedPorts ?? {}).join(' ')],
  ['Working directory', (config) => config?.config?.WorkingDir],
  ['Platform', (config) => (config?.os ? `${config.os} on ${config.architecture}` : undefined)],
  ['Created', (config) => config?.created],
];

const CHANGE_LABEL: Record<Change, ReactNode> = {
  shared: <Label isCompact>shared</Label>,
  added: (
    <Label isCompact color="green" className="quay-diff-added">
      added
    </Label>
  ),
  removed: (
    <Label isCompact color="red" className="quay-diff-removed">
      removed
    </Label>
  ),
};

export function TagCompare() {
  const { ns = '', repo = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const a = params.get('a') ?? '';
  const b = params.get('b') ?? '';
  const platform = params.get('platform') ?? undefined;
  const { data, error } = useLoad(
    async () => (a && b ? Promise.all([loadSide(ns, repo, a, platform), loadSide(ns, repo, b, platform)]) : undefined),
    [ns, repo, a, b, platform],
  );
  const set = (key: string, value: string) =>
    setParams((now) => {
      const next = new URLSearchParams(now);
      next.set(key, value);
      return next;
    });

  return (
    <>
      <PageHeader
        title={`Compare ${a || '…'} with ${b || '…'}`}
        crumbs={[
          { label: 'Repositories', to: '/repository' },
          { label: `${ns}/${repo}`, to: `/repository/${ns}/${repo}?tab=tags` },
        ]}
      >
        <Flex className="pf-v6-u-mt-md">
          <FlexItem>
            <FormGroup label="Before" fieldId="compare-a">
              <TextInput id="compare-a" value={a} onChange={(_, value) => set('a', value)} />
            </FormGroup>
          </FlexItem>
          <FlexItem>
            <FormGroup label="After" fieldId="compare-b">
              <TextInput id="compare-b" value={b} onChange={(_, value) => set('b', value)} />
            </FormGroup>
          </FlexItem>
          {data && data[0].platforms.length > 0 && (
            <FlexItem>
              <FormGroup label="Platform" fieldId="compare-platform">
                <FormSelect
                  id="compare-platform"
                  value={data[0].platform}
                  onChange={(_, value) => set('platform', value)}
                >
                  {data[0].platforms.map((name) => (
                    <FormSelectOption key={name} value={name} label={name} />
                  ))}
                </FormSelect>
              </FormGroup>
            </FlexItem>
          )}
        </Flex>
      </PageHeader>
      <PageSection>
        {error && <LoadError error={error} />}
        {!data &&
          !error &&
          (a && b ? <Loading what="the comparison" /> : <Content component="p">Name two tags.</Content>)}
        {data && <Comparison before={data[0]} after={data[1]} />}
      </PageSection>
    </>
  );
}

function Comparison({ before, after }: { before: Side; after: Side }) {
  const layers = compareLayers(before.image, after.image);
  const total = (change: Change) =>
    layers.filter((layer) => layer.change === change).reduce((sum, layer) => sum + layer.size, 0);
  const count = (change: Change) => layers.filter((layer) => layer.change === change).length;
  const historyA = (before.config?.history ?? []).map((entry) => entry.created_by ?? entry.comment ?? '');
  const historyB = (after.config?.history ?? []).map((entry) => entry.created_by ?? entry.comment ?? '');
  return (
    <>
      <Content component="p" data-testid="compare-summary">
        {`${before.tag} (${shortDigest(before.digest)}) → ${after.tag} (${shortDigest(after.digest)}): `}
        {`${count('shared')} ${count('shared') === 1 ? 'layer' : 'layers'} shared (${formatBytes(total('shared'))}), `}
        {`${count('added')} added (${formatBytes(total('added'))}), `}
        {`${count('removed')} removed (${formatBytes(total('removed'))}).`}
      </Content>
      <Title headingLevel="h2">Layers</Title>
      <Table aria-label="Layer changes" variant="compact" data-testid="compare-layers">
        <Thead>
          <Tr>
            <Th>Change</Th>
            <Th>Layer</Th>
            <Th>Size</Th>
          </Tr>
        </Thead>
        <Tbody>
          {layers.map((layer) => (
            <Tr key={`${layer.change}-${layer.digest}`}>
              <Td dataLabel="Change">{CHANGE_LABEL[layer.change]}</Td>
              <Td dataLabel="Layer" className="quay-mono">
                {shortDigest(layer.digest)}
              </Td>
              <Td dataLabel="Size">{formatBytes(layer.size)}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <Title headingLevel="h2" className="pf-v6-u-mt-lg">
        Configuration
      </Title>
      <Table aria-label="Configuration changes" variant="compact" data-testid="compare-config">
        <Thead>
          <Tr>
            <Th>Setting</Th>
            <Th>{before.tag}</Th>
            <Th>{after.tag}</Th>
            <Th>Change</Th>
          </Tr>
        </Thead>
        <Tbody>
          {CONFIG_FIELDS.map(([name, read]) => {
            const old = show(read(before.config));
            const now = show(read(after.config));
            return (
              <Tr key={name}>
                <Td dataLabel="Setting">{name}</Td>
                <Td dataLabel={before.tag} className="quay-mono" style={{ whiteSpace: 'pre-wrap' }}>
                  {old}
                </Td>
                <Td dataLabel={after.tag} className="quay-mono" style={{ whiteSpace: 'pre-wrap' }}>
                  {now}
                </Td>
                <Td dataLabel="Change">{old === now ? 'same' : <strong>changed</strong>}</Td>
              </Tr>
            );
          })}
        </Tbody>
      </Table>
      <Title headingLevel="h2" className="pf-v6-u-mt-lg">
        History
      </Title>
      <Table aria-label="History" variant="compact" data-testid="compare-history">
        <Thead>
          <Tr>
            <Th>Step</Th>
            <Th>{before.tag}</Th>
            <Th>{after.tag}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {Array.from({ length: Math.max(historyA.length, historyB.length) }, (_, index) => (
            <Tr key={index}>
              <Td dataLabel="Step">
                {index + 1}
                {historyA[index] !== historyB[index] && ' (differs)'}
              </Td>
              <Td dataLabel={before.tag} className="quay-mono">
                {historyA[index] ?? ''}
              </Td>
              <Td dataLabel={after.tag} className="quay-mono">
                {historyB[index] ?? ''}
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </>
  );
}
