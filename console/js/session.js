// Who is signed in (GET /api/v1/whoami) and what their role may do. The console shows
// no control the role may not use; the daemon checks again on every call.
import { api } from './api.js';

// Actions per role, as the daemon's routes allow them (admin: all).
const MAY = {
  viewer: [],
  officer: ['alerts.ack', 'alerts.handle'],
  analyst: ['sets.test', 'sets.backtest', 'sets.reload', 'verdicts.give', 'suggestions.apply'],
};

export const session = {
  tokens: false,  // the daemon has tokens configured (else reading is open, changes off)
  name: '',
  unit: '',
  role: 'viewer',
  // True when this person may do `action` ("alerts.ack", "sets.reload", ...).
  can(action) {
    if (!this.tokens) return false;
    if (this.role === 'admin') return true;
    return (MAY[this.role] || []).includes(action);
  },
};

// Asks the daemon who the token of this session is; throws ApiError (401: sign in).
export async function whoami() {
  const me = await api.get('/api/v1/whoami');
  Object.assign(session, { tokens: !!me.tokens, name: me.name || '', unit: me.unit || '', role: me.role || 'viewer' });
  return session;
}
