// Usage-log entries in words, as Quay's UI tells them (`hooks/UseLogDescriptions.tsx`).

type Metadata = Record<string, unknown>;

const text = (value: unknown) => (value === undefined || value === null ? '' : String(value));
const short = (digest: unknown) =>
  text(digest)
    .replace(/^sha256:/, '')
    .slice(0, 12);
const repo = (m: Metadata) => (m.namespace && m.repo ? `${text(m.namespace)}/${text(m.repo)}` : text(m.repo));
const date = (seconds: unknown) => (typeof seconds === 'number' ? new Date(seconds * 1000).toLocaleString() : 'never');

const DESCRIPTIONS: Record<string, (m: Metadata) => string> = {
  push_repo: (m) => (m.tag ? `Push of ${text(m.tag)} to repository ${repo(m)}` : `Push to repository ${repo(m)}`),
  pull_repo: (m) => (m.tag ? `Pull of ${text(m.tag)} from repository ${repo(m)}` : `Pull of repository ${repo(m)}`),
  create_repo: (m) => `Create Repository ${repo(m)}`,
  delete_repo: (m) => `Delete repository ${repo(m)}`,
  change_repo_visibility: (m) => `Change visibility for repository ${repo(m)} to ${text(m.visibility)}`,
  set_repo_description: (m) => `Change description for repository ${repo(m)}`,
  create_tag: (m) => `Tag ${text(m.tag)} created in repository ${repo(m)} on image ${short(m.manifest_digest)}`,
  move_tag: (m) =>
    `Tag ${text(m.tag)} moved from image ${short(m.original_manifest_digest)} to image ${short(m.manifest_digest)} in repository ${repo(m)}`,
  delete_tag: (m) => `Tag ${text(m.tag)} deleted in repository ${repo(m)}`,
  revert_tag: (m) => `Tag ${text(m.tag)} restored to image ${short(m.manifest_digest)} in repository ${repo(m)}`,
  permanently_delete_tag: (m) => `Tag ${text(m.tag)} permanently deleted in repository ${repo(m)}`,
  autoprune_tag_delete: (m) => `Tag ${text(m.tag)} pruned in repository ${repo(m)} by an auto-prune policy`,
  change_tag_expiration: (m) =>
    m.expiration_date
      ? `Tag ${text(m.tag)} set to expire on ${date(m.expiration_date)} in repository ${repo(m)}`
      : `Tag ${text(m.tag)} set to never expire in repository ${repo(m)}`,
  change_tag_immutability: (m) => `Tag ${text(m.tag)} immutability changed in repository ${repo(m)}`,
  change_repo_permission: (m) =>
    `Change permission for ${text(m.username ?? m.team ?? m.robot)} in repository ${repo(m)} to ${text(m.role)}`,
  delete_repo_permission: (m) =>
    `Remove permission for ${text(m.username ?? m.team ?? m.robot)} from repository ${repo(m)}`,
  create_robot: (m) => `Create Robot Account ${text(m.robot)}`,
  delete_robot: (m) => `Delete Robot Account ${text(m.robot)}`,
  regenerate_robot_token: (m) => `Regenerated token for Robot Account ${text(m.robot)}`,
  org_create: (m) => `Organization ${text(m.namespace)} created`,
  org_delete: (m) => `Organization ${text(m.namespace)} deleted`,
  org_create_team: (m) => `Create team ${text(m.team)}`,
  org_delete_team: (m) => `Delete team ${text(m.team)}`,
  org_set_team_role: (m) => `Change role of team ${text(m.team)} to ${text(m.role)}`,
  org_add_team_member: (m) => `Add member ${text(m.member)} to team ${text(m.team)}`,
  org_remove_team_member: (m) => `Remove member ${text(m.member)} from team ${text(m.team)}`,
  org_change_email: (m) => `Change email of organization to ${text(m.email)}`,
  login_success: (m) => `Successful login${m.type ? ` (${text(m.type)})` : ''}`,
  login_failure: () => 'Failed login',
  user_create: (m) => `Create user ${text(m.username)}`,
  user_delete: (m) => `Delete user ${text(m.username)}`,
  user_change_password: (m) => `Change password of ${text(m.username)}`,
  user_change_email: (m) => `Change email of ${text(m.username)} to ${text(m.email)}`,
  create_app_specific_token: (m) => `Create application token ${text(m.app_specific_token_title)}`,
  revoke_app_specific_token: (m) => `Revoke application token ${text(m.app_specific_token_title)}`,
  org_create_quota: (m) => `Create quota of ${text(m.limit)} for ${text(m.namespace)}`,
  org_change_quota: (m) => `Change quota of ${text(m.namespace)} to ${text(m.limit)}`,
  org_delete_quota: (m) => `Delete quota of ${text(m.namespace)}`,
  quota_warning: (m) => `Quota warning for ${text(m.namespace)}`,
  quota_error: (m) => `Quota exceeded for ${text(m.namespace)}`,
};

export function describeLog(kind: string, metadata: Metadata): string {
  const describe = DESCRIPTIONS[kind];
  if (describe) return describe(metadata);
  const details = Object.entries(metadata)
    .filter(([, value]) => value !== null && typeof value !== 'object')
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(', ');
  const words = kind.replaceAll('_', ' ');
  return details ? `${words[0].toUpperCase()}${words.slice(1)} (${details})` : words;
}
