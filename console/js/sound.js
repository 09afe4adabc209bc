// A beep for new orange and red alerts (WebAudio, no sound file), switchable; the choice
// is a preference kept in localStorage (not a secret).
const KEY = 'yuqing.sound';
let ctx = null;

export function soundOn() { return localStorage.getItem(KEY) !== 'off'; }
export function setSound(on) { localStorage.setItem(KEY, on ? 'on' : 'off'); }

// Browsers start audio only after a gesture: the first click or key unlocks it.
function unlock() {
  if (!ctx && window.AudioContext) ctx = new AudioContext();
  if (ctx && ctx.state === 'suspended') ctx.resume();
}
window.addEventListener('pointerdown', unlock, { once: false, passive: true });
window.addEventListener('keydown', unlock, { once: false, passive: true });

// Red: three high beeps; orange: two lower ones.
export function beep(level) {
  if (!soundOn()) return;
  unlock();
  if (!ctx) return;
  const count = level === 'red' ? 3 : 2;
  const freq = level === 'red' ? 1046 : 784;
  const t0 = ctx.currentTime + 0.02;
  for (let i = 0; i < count; i++) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    osc.type = 'square';
    gain.gain.setValueAtTime(0.0001, t0 + i * 0.3);
    gain.gain.exponentialRampToValueAtTime(0.2, t0 + i * 0.3 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.3 + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(t0 + i * 0.3);
    osc.stop(t0 + i * 0.3 + 0.22);
  }
}
