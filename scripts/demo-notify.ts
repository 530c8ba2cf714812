/**
 * `npm run demo:notify [-- "text"]`: a backend-originated notification for the demo page's
 * notifications section — published to `user:demo` through the server API (API_URL, default
 * http://127.0.0.1:8080; API_KEY, one of the server's --api-key values).
 */
import { createServerApi, ServerApiError } from '../src/server-api.ts';

const key = process.env.API_KEY?.split(',')[0]?.trim();
if (!key) {
  console.error('demo:notify: set API_KEY to one of the server\'s --api-key values (start it with: npm start -- --api-key "$API_KEY")');
  process.exit(2);
}
const api = createServerApi({ url: process.env.API_URL || 'http://127.0.0.1:8080', key });
const text = process.argv.slice(2).join(' ') || 'Your order has shipped.';
try {
  const answer = await api.publishToUser(process.env.DEMO_USER || 'demo', {
    title: 'From the backend',
    text,
    at: new Date().toISOString(),
  });
  console.log(`published to ${answer.channel}`);
} catch (error) {
  console.error(`demo:notify: ${error instanceof ServerApiError ? `${error.status} ${error.code}: ${error.message}` : String(error)}`);
  process.exit(1);
}
