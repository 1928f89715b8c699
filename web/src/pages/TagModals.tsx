// Adding a tag (confirming before it moves an existing one) and changing expirations.

import { useState } from 'react';
import { Alert, Button, FormGroup, TextInput } from '@patternfly/react-core';
import { api, messageOf, repoPath, seg } from '../api';
import { localInput, shortDigest } from '../format';
import { useToast } from '../toasts';
import { FieldRule, FormModal } from '../components/FormModal';
import { activeTag, type Tag } from '../tags';
import type { RepositoryView } from './Repository';

const TAG_NAME = /^[\w][\w.-]{0,127}$/;

export function AddTagModal({
  repository,
  source,
  onClose,
  onDone,
}: {
  repository: RepositoryView;
  source: Tag;
  onClose: () => void;
  onDone: () => void;
}) {
  const toast = useToast();
  const [name, setName] = useState('');
  const [existing, setExisting] = useState<Tag | null>(null);
  const invalid = name !== '' && !TAG_NAME.test(name);

  const submit = async () => {
    const found = await activeTag(repository.namespace, repository.name, name);
    if (found && found.manifest_digest === source.manifest_digest) {
      throw new Error(`Tag ${name} already points to this manifest.`);
    }
    if (found && !existing) {
      // Quay moves an existing tag without asking; a move is worth a second look.
      setExisting(found);
      return;
    }
    await api.put(repoPath(repository.namespace, repository.name, `/tag/${seg(name)}`), {
      manifest_digest: source.manifest_digest,
    });
    toast('success', existing ? `Moved tag ${name} to ${shortDigest(source.manifest_digest)}` : `Created tag ${name}`);
    onDone();
    onClose();
  };

  return (
    <FormModal
      id="add-tag"
      title={`Add tag to ${shortDigest(source.manifest_digest)}`}
      submit={existing ? 'Move tag' : 'Add tag'}
      canSubmit={name !== '' && !invalid}
      onSubmit={submit}
      onClose={onClose}
      notice={
        existing && (
          <Alert variant="warning" isInline title={`Tag ${name} already exists`}>
            It points to {shortDigest(existing.manifest_digest)}. Moving it makes it point to{' '}
            {shortDigest(source.manifest_digest)}; the old target stays in the tag history.
          </Alert>
        )
      }
    >
      <FormGroup label="New tag name" fieldId="new-tag-name" isRequired>
        <TextInput
          id="new-tag-name"
          value={name}
          validated={invalid ? 'error' : 'default'}
          onChange={(_, value) => {
            setName(value);
            setExisting(null);
          }}
        />
        <FieldRule broken={invalid}>
          Letters, digits, _ . and -, not starting with . or -; at most 128 characters.
        </FieldRule>
      </FormGroup>
    </FormModal>
  );
}

export function ExpirationModal({
  repository,
  tags,
  onClose,
  onDone,
}: {
  repository: RepositoryView;
  tags: Tag[];
  onClose: () => void;
  onDone: () => void;
}) {
  const toast = useToast();
  const first = tags[0]?.expiration;
  const [when, setWhen] = useState(first ? localInput(new Date(first)) : '');
  const chosen = when ? new Date(when) : null;
  const past = chosen !== null && chosen.getTime() <= Date.now();
  const names = tags.map((tag) => tag.name).join(', ');

  const save = async (expiration: number | null) => {
    for (const tag of tags) {
      await api.put(repoPath(repository.namespace, repository.name, `/tag/${seg(tag.name)}`), { expiration });
    }
    toast('success', expiration === null ? `Cleared the expiration of ${names}` : `Set the expiration of ${names}`);
    onDone();
    onClose();
  };

  return (
    <FormModal
      id="expiration"
      title="Change Tags Expiration"
      submit="Change Expiration"
      canSubmit={chosen !== null && !past}
      onSubmit={() => save(Math.floor((chosen?.getTime() ?? 0) / 1000))}
      onClose={onClose}
      extraActions={
        <Button
          variant="secondary"
          onClick={() => void save(null).catch((failure) => toast('danger', messageOf(failure)))}
        >
          Clear
        </Button>
      }
    >
      <p>Tags: {names}</p>
      <FormGroup label="Expires at" fieldId="expiration-time">
        <TextInput
          id="expiration-time"
          type="datetime-local"
          min={localInput(new Date())}
          value={when}
          validated={past ? 'error' : 'default'}
          onChange={(_, value) => setWhen(value)}
        />
        <FieldRule broken={past}>
          {past ? 'The expiration must be in the future.' : 'The tag is removed at this local date and time.'}
        </FieldRule>
      </FormGroup>
    </FormModal>
  );
}
