import { adviceFor, type ApiError } from './api-client';

/** What the sign-in form says when the server refused the token, in words that tell the operator what to do. */
export function signInFailureMessage(error: ApiError): string {
  if (error.code === 'ADMIN_NOT_CONFIGURED') {
    return 'This server has no admin token, so the console is turned off. Set ADMIN_TOKEN (16+ characters) in its environment and restart it; locally, npm start makes one up and prints it.';
  }
  if (error.kind === 'unauthorized') {
    return 'That token was not accepted. Paste the ADMIN_TOKEN of this deployment (npm start prints it as "console: ... (token ...)").';
  }
  return `${error.message} ${adviceFor(error)}`;
}
