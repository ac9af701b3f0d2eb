import type { IAuthenticateGeneric, Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

export class CorofyApi implements ICredentialType {
  name = 'corofyApi';

  displayName = 'Corofy API';

  icon: Icon = { light: 'file:../nodes/shared/corofy.svg', dark: 'file:../nodes/shared/corofy.dark.svg' };

  documentationUrl = 'https://github.com/corofy/corofy#3-create-the-credential';

  properties: INodeProperties[] = [
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: 'http://127.0.0.1:8787',
      placeholder: 'https://corofy.example.com',
      description: 'Where the Corofy service answers, without a path (the address of its /healthz)',
      required: true,
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description:
        'The COROFY_API_KEY the service runs with. Without one, the service generates a key on its first start, prints it once and keeps it in its data folder (COROFY_DATA_DIR)',
      required: true,
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
  };

  // Tested by the nodes' `corofyApiConnection` method (nodes/shared/credential-test.ts),
  // so the error banner says in one sentence what is wrong.
}
