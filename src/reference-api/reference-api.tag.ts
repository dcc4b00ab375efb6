/** The Swagger tag of the routes served for the hermes-studio web client. */
export const REFERENCE_API_TAG = 'hermes-studio compatible';
