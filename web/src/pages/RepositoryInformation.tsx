// Pull commands and the Markdown description, edited in place.

import { useState } from 'react';
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { Button, Card, CardBody, CardTitle, Content, Flex, FlexItem, TextArea } from '@patternfly/react-core';
import { api, messageOf, repoPath } from '../api';
import { useRegistryHost } from '../session';
import { useToast } from '../toasts';
import { CopyCommand } from '../components/common';
import type { RepositoryView } from './Repository';

/** Markdown to HTML that cannot run script: descriptions are anyone's text. */
function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(marked.parse(text, { async: false }));
}

export function RepositoryInformation({ repository, onChange }: { repository: RepositoryView; onChange: () => void }) {
  const host = useRegistryHost();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(repository.description ?? '');
  const image = `${host}/${repository.namespace}/${repository.name}`;
  const save = async () => {
    try {
      await api.put(repoPath(repository.namespace, repository.name), { description: text });
      toast('success', 'Description saved');
      setEditing(false);
      onChange();
    } catch (failure) {
      toast('danger', messageOf(failure));
    }
  };
  return (
    <Flex direction={{ default: 'column' }} className="pf-v6-u-mt-md">
      <FlexItem>
        <Card>
          <CardTitle>Pull this repository</CardTitle>
          <CardBody>
            <Content component="p">Podman</Content>
            <CopyCommand command={`podman pull ${image}`} testId="pull-podman" />
            <Content component="p">Docker</Content>
            <CopyCommand command={`docker pull ${image}`} testId="pull-docker" />
          </CardBody>
        </Card>
      </FlexItem>
      <FlexItem>
        <Card>
          <CardTitle>Description</CardTitle>
          <CardBody>
            {editing ? (
              <>
                <TextArea
                  aria-label="Repository description (Markdown)"
                  value={text}
                  onChange={(_, value) => setText(value)}
                  rows={8}
                />
                <Button onClick={save} className="pf-v6-u-mt-sm">
                  Save
                </Button>{' '}
                <Button variant="link" onClick={() => setEditing(false)}>
                  Cancel
                </Button>
              </>
            ) : (
              <>
                {repository.description ? (
                  <div
                    className="pf-v6-c-content"
                    data-testid="repository-description"
                    // Sanitized by DOMPurify: Markdown from users never carries script.
                    dangerouslySetInnerHTML={{ __html: renderMarkdown(repository.description) }}
                  />
                ) : (
                  <Content component="p">This repository has no description.</Content>
                )}
                {repository.can_write && (
                  <Button variant="secondary" onClick={() => setEditing(true)}>
                    Edit description
                  </Button>
                )}
              </>
            )}
          </CardBody>
        </Card>
      </FlexItem>
    </Flex>
  );
}
