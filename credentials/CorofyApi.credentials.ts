import type {
  IAuthenticateGeneric,
  Icon,
  ICredentialTestRequest,
  ICredentialType,
  INodeProperties,
} from 'n8n-workflow';

export class CorofyApi implements ICredentialType {
  name = 'corofyApi';

  displayName = 'Corofy API';

  icon: Icon = { light: 'file:../nodes/shared/corofy.svg', dark: 'file:../nodes/shared/corofy.dark.svg' };

  documentationUrl = 'https://github.com/corofy/corofy#readme';

  properties: INodeProperties[] = [
    {
      displayName: 'Base URL',
      name: 'baseUrl',
      type: 'string',
      default: 'http://127.0.0.1:8787',
      placeholder: 'https://corofy.example.com',
      description: 'Where the Corofy service answers',
      required: true,
    },
    {
      displayName: 'API Key',
      name: 'apiKey',
      type: 'string',
      typeOptions: { password: true },
      default: '',
      description: 'The COROFY_API_KEY of the service (printed once on its first start when embedded)',
      required: true,
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: 'generic',
    properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
  };

  // An authenticated call: a wrong key answers 401 with the service's own message.
  test: ICredentialTestRequest = {
    request: { baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}', url: '/v1/senders', method: 'GET' },
  };
}
