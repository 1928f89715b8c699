// One tag: details (digest, size, labels), its platforms, and its layers with the history
// that made them.

import type { ReactNode } from 'react';
import { useParams, useSearchParams } from 'react-router-dom';
import {
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  FormSelect,
  FormSelectOption,
  Label,
  LabelGroup,
  PageSection,
  Tab,
  Tabs,
  TabTitleText,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, repoPath, seg } from '../api';
import { formatBytes, formatDate, shortDigest } from '../format';
import { useLoad } from '../hooks';
import { LoadError, Loading, PageHeader } from '../components/common';
import { activeTag, imageConfig, imageSize, resolveImage, type ImageConfig, type ImageManifest } from '../tags';

export interface LayerRow {
  digest?: string;
  size?: number;
  command: string;
}

/** Layers beside the history entries that made them (empty layers have no blob). */
function layerRows(image: ImageManifest, config: ImageConfig | undefined): LayerRow[] {
  const history = config?.history ?? [];
  const layers = [...(image.layers ?? [])];
  if (history.length === 0) return layers.map((layer) => ({ digest: layer.digest, size: layer.size, command: '' }));
  const rows: LayerRow[] = [];
  for (const entry of history) {
    const command = entry.created_by ?? entry.comment ?? '';
    if (entry.empty_layer) rows.push({ command });
    else {
      const layer = layers.shift();
      rows.push({ digest: layer?.digest, size: layer?.size, command });
    }
  }
  return [...rows, ...layers.map((layer) => ({ digest: layer.digest, size: layer.size, command: '' }))];
}

export function TagDetails() {
  const { ns = '', repo = '', tag = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const platform = params.get('platform') ?? undefined;
  const { data, error } = useLoad(async () => {
    const found = await activeTag(ns, repo, tag);
    if (!found) throw new Error(`Tag ${tag} does not exist in ${ns}/${repo}.`);
    const resolved = await resolveImage(ns, repo, found.manifest_digest, platform);
    const [config, labels] = await Promise.all([
      imageConfig(ns, repo, resolved.digest).catch(() => undefined),
      api
        .get<{ labels: { key: string; value: string }[] }>(
          repoPath(ns, repo, `/manifest/${seg(found.manifest_digest)}/labels`),
        )
        .then((answer) => answer.labels)
        .catch(() => []),
    ]);
    return { tag: found, resolved, config, labels };
  }, [ns, repo, tag, platform]);

  const crumbs = [
    { label: 'Repositories', to: '/repository' },
    { label: `${ns}/${repo}`, to: `/repository/${ns}/${repo}?tab=tags` },
  ];
  return (
    <>
      <PageHeader title={tag} crumbs={crumbs} />
      <PageSection>
        {error && <LoadError error={error} />}
        {!data && !error && <Loading what="tag" />}
        {data && (
          <>
            {data.resolved.platforms.length > 0 && (
              <FormSelect
                aria-label="Architecture"
                value={data.resolved.platform}
                onChange={(_, value) => setParams({ platform: value })}
                className="pf-v6-u-mb-md"
              >
                {data.resolved.platforms.map((name) => (
                  <FormSelectOption key={name} value={name} label={name} />
                ))}
              </FormSelect>
            )}
            <Tabs defaultActiveKey="details" aria-label="Tag">
              <Tab eventKey="details" title={<TabTitleText>Details</TabTitleText>}>
                <DescriptionList isHorizontal className="pf-v6-u-mt-md">
                  {(
                    [
                      ['Name', data.tag.name],
                      ['Creation', formatDate(data.tag.start_ts)],
                      ['Repository', `${ns}/${repo}`],
                      ['Modified', formatDate(data.tag.last_modified)],
                      ['Digest', <span className="quay-mono">{data.tag.manifest_digest}</span>],
                      ['Size', formatBytes(imageSize(data.resolved.image))],
                      [
                        'Labels',
                        data.labels.length === 0 ? (
                          'None'
                        ) : (
                          <LabelGroup numLabels={10}>
                            {data.labels.map((label) => (
                              <Label key={label.key} isCompact>
                                {label.key}={label.value}
                              </Label>
                            ))}
                          </LabelGroup>
                        ),
                      ],
                    ] as [string, ReactNode][]
                  ).map(([term, value]) => (
                    <DescriptionListGroup key={term}>
                      <DescriptionListTerm>{term}</DescriptionListTerm>
                      <DescriptionListDescription>{value}</DescriptionListDescription>
                    </DescriptionListGroup>
                  ))}
                </DescriptionList>
              </Tab>
              <Tab eventKey="layers" title={<TabTitleText>Layers</TabTitleText>}>
                <Table aria-label="Layers" variant="compact">
                  <Thead>
                    <Tr>
                      <Th>Command</Th>
                      <Th>Size</Th>
                      <Th>Digest</Th>
                    </Tr>
                  </Thead>
                  <Tbody>
                    {layerRows(data.resolved.image, data.config).map((row, index) => (
                      <Tr key={index}>
                        <Td dataLabel="Command" className="quay-mono">
                          {row.command || '(no history)'}
                        </Td>
                        <Td dataLabel="Size">{row.size === undefined ? '' : formatBytes(row.size)}</Td>
                        <Td dataLabel="Digest" className="quay-mono">
                          {row.digest ? shortDigest(row.digest) : ''}
                        </Td>
                      </Tr>
                    ))}
                  </Tbody>
                </Table>
              </Tab>
            </Tabs>
          </>
        )}
      </PageSection>
    </>
  );
}
