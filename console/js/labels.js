// The words the views share: levels, states, kinds, roles (Chinese first).

export const LEVELS = ['red', 'orange', 'yellow', 'blue'];  // most urgent first
export const LEVEL_TEXT = { red: '红色', orange: '橙色', yellow: '黄色', blue: '蓝色' };
export const LEVEL_RANK = { red: 0, orange: 1, yellow: 2, blue: 3 };

export const STATE_TEXT = { open: '待签收', acknowledged: '已签收', handled: '已处置', closed: '已办结' };
export const CONDITION_TEXT = { firing: '持续中', cleared: '已消除' };

export const KIND_TEXT = {
  immediate: '即时', threshold: '阈值', spike: '突增', spread: '扩散',
  due_soon: '即将到期', overdue: '已超期', concentrated_issue: '集中诉求',
  same_text: '同文', messages_lost: '消息丢失', rule_tuning: '规则待调优', risk_level: '风险等级',
};

// Analysts' verdicts on hits (issue 23), in the order of the buttons.
export const VERDICTS = ['relevant', 'false', 'undetermined'];
export const VERDICT_TEXT = { relevant: '有效', false: '误报', undetermined: '待定' };

// Risk levels (issue 24), lowest first, and the colour class of each.
export const RISK_LEVELS = ['low', 'medium', 'high', 'very_high'];
export const RISK_TEXT = { low: '低', medium: '中', high: '高', very_high: '极高' };

export const ACTION_TEXT = {
  fired: '触发', notified: '通知', escalated: '升级', clock: '时限提醒', acknowledged: '签收',
  handled: '处置', cleared: '条件消除', fired_again: '再次触发', closed: '办结',
};

export const ROLE_TEXT = { viewer: '查看员', officer: '值班员', analyst: '分析员', admin: '管理员' };

export const text = (table, key) => table[key] || key || '—';
