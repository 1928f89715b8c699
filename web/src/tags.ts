// Tags and manifests as `/api/v1` answers them, and the few things read out of a manifest.

import { api, repoPath, seg } from './api';

export interface Tag {
  name: string;
  reversion: boolean;
  immutable: boolean;
  start_ts: number;
  end_ts?: number;
  manifest_digest: string;
  is_manifest_list: boolean;
  size: number;
  last_modified: string;
  expiration?: string;
}

export interface TagPage {
  tags: Tag[];
  page: number;
  has_additional: boolean;
}

export interface ManifestView {
  digest: string;
  is_manifest_list: boolean;
  manifest_data: string;
  media_type: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  manifests?: Descriptor[];
}

export const platformName = (platform?: Platform) =>
  platform
    ? `${platform.os} on ${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`
    : 'unknown platform';

export interface TagQuery {
  page: number;
  limit: number;
  onlyActive: boolean;
  /** Names containing this text. */
  filter?: string;
  specificTag?: string;
}

export function tagPage(namespace: string, repository: string, query: TagQuery): Promise<TagPage> {
  const params = new URLSearchParams({
    limit: String(query.limit),
    page: String(query.page),
    onlyActiveTags: String(query.onlyActive),
  });
  if (query.filter) params.set('filter_tag_name', `like:${query.filter}`);
  if (query.specificTag) params.set('specificTag', query.specificTag);
  return api.get<TagPage>(repoPath(namespace, repository, `/tag/?${params}`));
}

/** Every page of tags, newest first (the whole history with `onlyActive: false`). */
export async function allTags(namespace: string, repository: string, onlyActive: boolean): Promise<Tag[]> {
  const found: Tag[] = [];
  for (let page = 1; ; page += 1) {
    const answer = await tagPage(namespace, repository, { page, limit: 100, onlyActive });
    found.push(...answer.tags);
    if (!answer.has_additional) return found;
  }
}

export async function manifest(namespace: string, repository: string, digest: string) {
  const view = await api.get<ManifestView>(repoPath(namespace, repository, `/manifest/${seg(digest)}`));
  return { view, parsed: JSON.parse(view.manifest_data) as ImageManifest };
}

/** An image's size as pushed: its config and layers, compressed. */
export const imageSize = (image: ImageManifest) =>
  (image.config?.size ?? 0) + (image.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);

/** The tag's current lifetime, if it has one. */
export async function activeTag(namespace: string, repository: string, name: string): Promise<Tag | undefined> {
  const answer = await tagPage(namespace, repository, { page: 1, limit: 1, onlyActive: true, specificTag: name });
  return answer.tags[0];
}

/** The image configuration (OCI image-spec `config`), as pushed. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  created?: string;
  config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    User?: string;
    ExposedPorts?: Record<string, object> | null;
    WorkingDir?: string;
  };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export const imageConfig = (namespace: string, repository: string, digest: string) =>
  api.get<ImageConfig>(repoPath(namespace, repository, `/manifest/${seg(digest)}/config`));

/** An image of a tag: the tag's own manifest, or one platform's child of its index. */
export async function resolveImage(namespace: string, repository: string, digest: string, platform?: string) {
  const top = await manifest(namespace, repository, digest);
  const children = top.parsed.manifests ?? [];
  if (!top.view.is_manifest_list) {
    return { digest, image: top.parsed, platforms: [] as string[], platform: undefined as string | undefined };
  }
  const platforms = children.map((child) => platformName(child.platform));
  const chosen = children.find((child) => platformName(child.platform) === platform) ?? children[0];
  if (!chosen) throw new Error('This index lists no images.');
  const image = await manifest(namespace, repository, chosen.digest);
  return { digest: chosen.digest, image: image.parsed, platforms, platform: platformName(chosen.platform) };
}
