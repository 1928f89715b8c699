// A robot's credentials in every form a client takes: the token, Kubernetes' pull secret,
// podman and docker login, Docker's config.json. The server shows a token only when the robot
// is created or its token regenerated (Quay shows it any time): the dialog says so.

import { useState } from 'react';
import {
  Alert,
  Button,
  ClipboardCopy,
  ClipboardCopyVariant,
  Content,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Tab,
  Tabs,
  TabTitleText,
} from '@patternfly/react-core';
import { api, messageOf, seg } from '../api';
import { useRegistryHost } from '../session';
import { useToast } from '../toasts';
import { type Robot, shortName } from './RobotAccounts';

const UNKNOWN = '<token>';

function download(filename: string, text: string, type: string) {
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type }));
  link.download = filename;
  link.click();
  URL.revokeObjectURL(link.href);
}

/** Docker's `config.json` (podman's `auth.json`) holding the robot's credentials for `host`. */
function dockerConfig(host: string, username: string, token: string, indent?: number): string {
  return JSON.stringify({ auths: { [host]: { auth: btoa(`${username}:${token}`), email: '' } } }, null, indent);
}

/** A Kubernetes pull secret named `secretName` around that `config.json`. */
function kubernetesSecret(secretName: string, host: string, username: string, token: string): string {
  return [
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    `  name: ${secretName}`,
    'data:',
    `  .dockerconfigjson: ${btoa(dockerConfig(host, username, token))}`,
    'type: kubernetes.io/dockerconfigjson',
    '',
  ].join('\n');
}

export function RobotCredentials({ robot, base, onClose }: { robot: Robot; base: string; onClose: () => void }) {
  const host = useRegistryHost();
  const toast = useToast();
  const [token, setToken] = useState<string | null>(robot.token);
  const [tab, setTab] = useState<string | number>('robot');
  const [error, setError] = useState<string>();
  const shown = token ?? UNKNOWN;
  const fileStem = robot.name.replace('+', '-');
  const secretName = `${fileStem.replace(/[^a-z0-9-]/g, '-')}-pull-secret`;
  const secret = kubernetesSecret(secretName, host, robot.name, shown);

  const regenerate = async () => {
    try {
      const answer = await api.post<Robot>(`${base}/${seg(shortName(robot.name))}/regenerate`);
      setToken(answer.token);
      toast('success', `Regenerated the token of ${robot.name}`);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  const copy = (text: string, label: string, testId?: string) => (
    <ClipboardCopy
      isReadOnly
      variant={text.includes('\n') ? ClipboardCopyVariant.expansion : ClipboardCopyVariant.inline}
      hoverTip="Copy"
      clickTip="Copied to clipboard!"
      textAriaLabel={label}
      toggleAriaLabel={`Show ${label}`}
      data-testid={testId}
    >
      {text}
    </ClipboardCopy>
  );

  return (
    <Modal isOpen variant="large" onClose={onClose} aria-labelledby="robot-credentials-title">
      <ModalHeader title={`Credentials for ${robot.name}`} labelId="robot-credentials-title" />
      <ModalBody>
        {error && <Alert variant="danger" isInline title={error} />}
        {token === null && (
          <Alert
            variant="info"
            isInline
            title="This registry shows a robot's token only once"
            data-testid="token-hidden"
          >
            The token was shown when the robot was created or last regenerated, and is not stored in a form that can be
            shown again. Regenerate it to get a new one; clients using the old token must then be updated.
          </Alert>
        )}
        <Tabs activeKey={tab} onSelect={(_, key) => setTab(key)} aria-label="Credential formats">
          <Tab eventKey="robot" title={<TabTitleText>Robot Account</TabTitleText>}>
            <Content component="p">Username</Content>
            {copy(robot.name, 'Robot username', 'robot-username')}
            <Content component="p">Robot token</Content>
            {copy(shown, 'Robot token', 'robot-token')}
            <Alert
              variant="warning"
              isInline
              isPlain
              title="Regenerating the token makes the current one stop working."
            />
            <Button variant="secondary" onClick={regenerate} data-testid="regenerate-token">
              Regenerate token now
            </Button>
          </Tab>
          <Tab eventKey="kubernetes" title={<TabTitleText>Kubernetes</TabTitleText>}>
            <Content component="p">
              Step 1: Download the secret: a pull secret of type kubernetes.io/dockerconfigjson.
            </Content>
            <Button
              variant="secondary"
              isDisabled={token === null}
              onClick={() => download(`${fileStem}-secret.yml`, secret, 'application/yaml')}
            >
              Download {fileStem}-secret.yml
            </Button>
            {copy(secret, 'Kubernetes secret', 'kubernetes-secret')}
            <Content component="p">Step 2: Submit the secret to the cluster</Content>
            {copy(`kubectl create -f ${fileStem}-secret.yml --namespace=NAMESPACE`, 'kubectl command')}
            <Content component="p">Step 3: Refer to it in the pod's imagePullSecrets</Content>
            {copy(`imagePullSecrets:\n  - name: ${secretName}`, 'imagePullSecrets')}
          </Tab>
          <Tab eventKey="podman" title={<TabTitleText>Podman</TabTitleText>}>
            {copy(`podman login -u='${robot.name}' -p='${shown}' ${host}`, 'Podman login', 'podman-login')}
          </Tab>
          <Tab eventKey="docker" title={<TabTitleText>Docker Login</TabTitleText>}>
            {copy(`docker login -u='${robot.name}' -p='${shown}' ${host}`, 'Docker login', 'docker-login')}
          </Tab>
          <Tab eventKey="dockerconfig" title={<TabTitleText>Docker Configuration</TabTitleText>}>
            <Content component="p">Put this in ~/.docker/config.json (or podman's auth.json):</Content>
            {copy(dockerConfig(host, robot.name, shown, 2), 'Docker configuration', 'docker-config')}
            <Button
              variant="secondary"
              isDisabled={token === null}
              onClick={() => download('auth.json', dockerConfig(host, robot.name, shown, 2), 'application/json')}
            >
              Download auth.json
            </Button>
          </Tab>
        </Tabs>
      </ModalBody>
      <ModalFooter>
        <Button onClick={onClose}>Close</Button>
      </ModalFooter>
    </Modal>
  );
}
