// Quay's "Create repository" dialog: namespace, name, visibility, description.

import { useState } from 'react';
import { useNavigate } from 'react-router-dom';
import { FormGroup, FormSelect, FormSelectOption, Radio, TextArea, TextInput } from '@patternfly/react-core';
import { api } from '../api';
import { useUser } from '../session';
import { useToast } from '../toasts';
import { FieldRule, FormModal } from '../components/FormModal';

const REPOSITORY_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

const VISIBILITIES = [
  { value: 'public', label: 'Public', description: 'Anyone can see and pull from this repository.' },
  { value: 'private', label: 'Private', description: 'You choose who can see, pull from and push to this repository.' },
] as const;

export function CreateRepositoryModal({
  namespace,
  onClose,
  onCreated,
}: {
  namespace?: string;
  onClose: () => void;
  onCreated: () => void;
}) {
  const user = useUser();
  const toast = useToast();
  const navigate = useNavigate();
  const namespaces = [user.username, ...user.organizations.map((org) => org.name)];
  const [owner, setOwner] = useState(namespace ?? namespaces[0]);
  const [name, setName] = useState('');
  const [visibility, setVisibility] = useState<'public' | 'private'>('private');
  const [description, setDescription] = useState('');
  const invalid = name !== '' && (!REPOSITORY_NAME.test(name) || name.length > 255);

  const create = async () => {
    await api.post('/api/v1/repository', {
      namespace: owner,
      repository: name,
      visibility,
      description,
      repo_kind: 'image',
    });
    toast('success', `Created repository ${owner}/${name}`);
    onCreated();
    navigate(`/repository/${owner}/${name}`);
  };

  return (
    <FormModal
      id="create-repository"
      title="Create repository"
      submit="Create"
      canSubmit={name !== '' && !invalid}
      onSubmit={create}
      onClose={onClose}
      variant="medium"
    >
      <FormGroup label="Namespace" fieldId="repository-namespace" isRequired>
        <FormSelect
          id="repository-namespace"
          value={owner}
          onChange={(_, value) => setOwner(value)}
          isDisabled={namespace !== undefined}
        >
          {namespaces.map((choice) => (
            <FormSelectOption key={choice} value={choice} label={choice} />
          ))}
        </FormSelect>
      </FormGroup>
      <FormGroup label="Repository name" fieldId="repository-name" isRequired>
        <TextInput
          id="repository-name"
          isRequired
          value={name}
          validated={invalid ? 'error' : 'default'}
          onChange={(_, value) => setName(value)}
        />
        <FieldRule broken={invalid}>
          Lowercase letters and digits, separated by one of . _ - or /; at most 255 characters.
        </FieldRule>
      </FormGroup>
      <FormGroup label="Repository description" fieldId="repository-description">
        <TextArea id="repository-description" value={description} onChange={(_, value) => setDescription(value)} />
      </FormGroup>
      <FormGroup role="radiogroup" label="Repository visibility" fieldId="repository-visibility" isInline>
        {VISIBILITIES.map((choice) => (
          <Radio
            key={choice.value}
            id={`visibility-${choice.value}`}
            name="visibility"
            label={choice.label}
            description={choice.description}
            isChecked={visibility === choice.value}
            onChange={() => setVisibility(choice.value)}
          />
        ))}
      </FormGroup>
    </FormModal>
  );
}
