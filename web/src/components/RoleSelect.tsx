import { FormSelect, FormSelectOption } from '@patternfly/react-core';

const REPOSITORY_ROLES = ['read', 'write', 'admin'] as const;

/** A native select: keyboard and screen readers need nothing more. */
export function RoleSelect({
  value,
  roles = REPOSITORY_ROLES,
  onChange,
  label,
}: {
  value: string;
  roles?: readonly string[];
  onChange: (role: string) => void;
  label: string;
}) {
  return (
    <FormSelect value={value} onChange={(_, role) => onChange(role)} aria-label={label}>
      {roles.map((role) => (
        <FormSelectOption key={role} value={role} label={role[0].toUpperCase() + role.slice(1)} />
      ))}
    </FormSelect>
  );
}
