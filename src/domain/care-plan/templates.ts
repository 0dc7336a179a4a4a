import type { CareRules } from '../../care-rules/rules.js';
import { ActivityCategory, ConditionKind, ManagementTier, ObservationKind } from '../../../vocabulary/index.js';
import type { ActivityInput, GoalInput } from './care-plan.service.js';

/**
 * Care-plan templates (干预计划模板): for each core condition and management tier, the goals and non-medical
 * prescriptions (非药物处方) the national basic public health service standard (国家基本公共卫生服务规范, 3rd ed.) and
 * the national primary-care guides for hypertension (国家基层高血压防治管理指南 2020) and type 2 diabetes
 * (国家基层糖尿病防治管理指南 2022) give every managed patient: salt under 5 g a day, a balanced diet, regular
 * moderate exercise, weight towards a BMI under 24, no smoking, little or no alcohol, home monitoring and a
 * self-management group. This module is the one place that content lives (docs/care-model.md lists it).
 *
 * Numbers the service judges by — the goals' targets, the urgent thresholds an activity warns of — come from
 * CareRules, so a deployment's CARE_RULES_FILE changes the templates too. What differs by tier is how closely the
 * patient is watched: an intensive (重点) patient measures at home daily and starts exercise gently; a general (一般)
 * one measures weekly. A clinician changes any of it on the plan afterwards.
 */
export interface CarePlanTemplate {
  /** `<conditionKind>-<tier>`, e.g. `HYPERTENSION-INTENSIVE`. */
  id: string;
  conditionKind: ConditionKind;
  tier: ManagementTier;
  title: string;
  goals: GoalInput[];
  activities: TemplateActivity[];
}

export interface TemplateActivity extends ActivityInput {
  /** Prescribed only to a patient known to smoke. */
  forSmokersOnly?: boolean;
}

/** The conditions templates exist for: the programme's "two chronic diseases". */
export const TEMPLATE_CONDITIONS = [ConditionKind.HYPERTENSION, ConditionKind.TYPE_2_DIABETES] as const;

const TIER_NAME: Record<ManagementTier, string> = { INTENSIVE: '重点管理', ROUTINE: '常规管理', GENERAL: '一般管理' };
const CONDITION_NAME: Partial<Record<ConditionKind, string>> = { HYPERTENSION: '高血压', TYPE_2_DIABETES: '2型糖尿病' };

/** How often the patient measures at home, by tier. */
const HOME_MONITORING: Record<ManagementTier, { bp: string; glucose: string }> = {
  INTENSIVE: { bp: '每天早晚各 1 次', glucose: '每周 2–4 天，测空腹及餐后 2 小时血糖' },
  ROUTINE: { bp: '每周 2–3 天，早晚各 1 次', glucose: '每周 1 天，测空腹及餐后 2 小时血糖' },
  GENERAL: { bp: '每周 1 天', glucose: '每月 1–2 次，测空腹血糖' },
};

const SMOKING: TemplateActivity = {
  category: ActivityCategory.SMOKING_CESSATION,
  description: '戒烟并避免被动吸烟；需要时转介戒烟门诊',
  forSmokersOnly: true,
};

const bmiGoal = (rules: CareRules): GoalInput => ({
  description: `控制体重，体重指数 < ${rules.goals.bmiBelow} kg/m²`,
  measure: ObservationKind.BMI,
  targetBelow: rules.goals.bmiBelow,
});

function hypertension(tier: ManagementTier, rules: CareRules): Pick<CarePlanTemplate, 'goals' | 'activities'> {
  const { control, urgent } = rules;
  const exercise: TemplateActivity =
    tier === ManagementTier.INTENSIVE
      ? {
          category: ActivityCategory.EXERCISE,
          description: `血压平稳前以散步等低强度活动为主，逐步增加；血压 ≥ ${urgent.systolicAtLeast}/${urgent.diastolicAtLeast} mmHg 时暂停运动并就诊`,
          frequency: '每天 20–30 分钟',
        }
      : { category: ActivityCategory.EXERCISE, description: '中等强度有氧运动：快走、慢跑、骑车、太极拳等', frequency: '每周 5–7 天，每次 30 分钟以上' };
  return {
    goals: [
      { description: `血压 < ${control.systolicBelow}/${control.diastolicBelow} mmHg`, measure: ObservationKind.BLOOD_PRESSURE, targetBelow: control.systolicBelow, diastolicBelow: control.diastolicBelow },
      bmiGoal(rules),
    ],
    activities: [
      { category: ActivityCategory.SALT_REDUCTION, description: '每日食盐逐步减至 5 g 以下：使用限盐勺，少吃咸菜、腌制和加工食品', frequency: '每天' },
      { category: ActivityCategory.DIET, description: '合理膳食：少油、少饱和脂肪，多吃新鲜蔬菜水果、全谷物和奶类', frequency: '每天' },
      exercise,
      SMOKING,
      { category: ActivityCategory.ALCOHOL_LIMITATION, description: '不饮酒；饮酒者限量（白酒 < 50 ml、葡萄酒 < 100 ml、啤酒 < 300 ml 一天）' },
      { category: ActivityCategory.OTHER, description: '家庭自测血压并记录，随访时带来', frequency: HOME_MONITORING[tier].bp },
      { category: ActivityCategory.SELF_MANAGEMENT_GROUP, description: '参加高血压患者自我管理小组活动', frequency: '每月 1 次' },
    ],
  };
}

function diabetes(tier: ManagementTier, rules: CareRules): Pick<CarePlanTemplate, 'goals' | 'activities'> {
  const { control, urgent } = rules;
  const exercise: TemplateActivity =
    tier === ManagementTier.INTENSIVE
      ? {
          category: ActivityCategory.EXERCISE,
          description: `血糖稳定前以餐后低至中等强度活动为主；血糖 ≥ ${urgent.glucoseAtLeast} 或 ≤ ${urgent.glucoseAtMost} mmol/L 时不运动并就诊`,
          frequency: '每天餐后 20–30 分钟',
        }
      : { category: ActivityCategory.EXERCISE, description: '每周至少 150 分钟中等强度有氧运动（如快走），另加每周 2–3 次抗阻训练', frequency: '每周 5 天，每次 30 分钟' };
  return {
    goals: [
      { description: `空腹血糖 < ${control.fastingGlucoseBelow} mmol/L`, measure: ObservationKind.FASTING_GLUCOSE, targetBelow: control.fastingGlucoseBelow },
      { description: `糖化血红蛋白 < ${control.hba1cBelow} %`, measure: ObservationKind.HBA1C, targetBelow: control.hba1cBelow },
      bmiGoal(rules),
    ],
    activities: [
      { category: ActivityCategory.DIET, description: '控制总能量：主食定量、粗细搭配，少吃甜食和含糖饮料，定时定量进餐', frequency: '每天' },
      { category: ActivityCategory.SALT_REDUCTION, description: '每日食盐 5 g 以下', frequency: '每天' },
      exercise,
      SMOKING,
      { category: ActivityCategory.ALCOHOL_LIMITATION, description: '不饮酒；饮酒者限量，不空腹饮酒（防低血糖）' },
      { category: ActivityCategory.OTHER, description: '自我监测血糖并记录，随访时带来', frequency: HOME_MONITORING[tier].glucose },
      { category: ActivityCategory.SELF_MANAGEMENT_GROUP, description: '参加糖尿病患者自我管理小组活动', frequency: '每月 1 次' },
    ],
  };
}

const CONTENT: Record<(typeof TEMPLATE_CONDITIONS)[number], (tier: ManagementTier, rules: CareRules) => Pick<CarePlanTemplate, 'goals' | 'activities'>> = {
  HYPERTENSION: hypertension,
  TYPE_2_DIABETES: diabetes,
};

/** Every template, or those of a condition and/or tier, with the targets of `rules`. */
export function carePlanTemplates(rules: CareRules, conditionKind?: ConditionKind | null, tier?: ManagementTier | null): CarePlanTemplate[] {
  return TEMPLATE_CONDITIONS.filter((kind) => !conditionKind || kind === conditionKind).flatMap((kind) =>
    Object.values(ManagementTier)
      .filter((t) => !tier || t === tier)
      .map((t) => ({ id: `${kind}-${t}`, conditionKind: kind, tier: t, title: `${CONDITION_NAME[kind]}${TIER_NAME[t]}干预计划`, ...CONTENT[kind](t, rules) })),
  );
}

export function carePlanTemplate(rules: CareRules, id: string): CarePlanTemplate | undefined {
  return carePlanTemplates(rules).find((t) => t.id === id);
}
