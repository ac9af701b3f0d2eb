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

  // An authenticated read: a wrong key answers 401, a Base URL where no Corofy
  // service runs answers 404 (or does not answer). The messages repeat the
  // service's own words, with what to do about them.
  test: ICredentialTestRequest = {
    request: { baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}', url: '/v1/senders', method: 'GET' },
    rules: [
      {
        type: 'responseCode',
        properties: {
          value: 401,
          message:
            'The API key is wrong. Use the COROFY_API_KEY the service runs with (the embedded default prints the key it generated on its first start and keeps it in .corofy/data/api-key).',
        },
      },
      {
        type: 'responseCode',
        properties: {
          value: 404,
          message:
            'No Corofy service at this Base URL: GET /v1/senders answered 404. Use the address where the service answers /healthz, without a path.',
        },
      },
      {
        type: 'responseCode',
        properties: {
          value: 503,
          message: 'The Corofy service is not ready: its database is unreachable or its schema is behind (see GET /readyz).',
        },
      },
    ],
  };
}
