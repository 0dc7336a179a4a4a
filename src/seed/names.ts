/**
 * Chinese name and place data for the demo county. The county is modelled on 平阳县 (Pingyang, Wenzhou,
 * Zhejiang; GB/T 2260 area code 330326): real township names first, then historical ones, so small seeds
 * get the big towns. Surname weights follow the national frequency ranking tilted towards southern
 * Zhejiang (陈, 林, 郑, 黄, 蔡, 叶 are far more common there than nationally).
 */
import { type Random, type WeightedTable, weighted } from './random.js';

export const COUNTY = {
  areaCode: '330326',
  province: '浙江省',
  city: '温州市',
  name: '平阳县',
  hospital: '平阳县人民医院',
  insurer: '平阳县医疗保障局',
  phonePrefix: '0577',
} as const;

export interface TownshipName {
  name: string;
  /** The township is the county seat: its health centre is a community health service centre. */
  seat?: boolean;
}

/** 16 current townships of Pingyang, then former ones merged since 2011 (up to the cap of 25). */
export const TOWNSHIPS: TownshipName[] = [
  { name: '昆阳镇', seat: true },
  { name: '鳌江镇' },
  { name: '水头镇' },
  { name: '萧江镇' },
  { name: '万全镇' },
  { name: '腾蛟镇' },
  { name: '山门镇' },
  { name: '麻步镇' },
  { name: '海西镇' },
  { name: '顺溪镇' },
  { name: '南雁镇' },
  { name: '怀溪镇' },
  { name: '凤卧镇' },
  { name: '南麂镇' },
  { name: '青街畲族乡' },
  { name: '闹村乡' },
  { name: '钱仓镇' },
  { name: '宋埠镇' },
  { name: '宋桥镇' },
  { name: '郑楼镇' },
  { name: '榆垟镇' },
  { name: '梅源乡' },
  { name: '西湾乡' },
  { name: '朝阳乡' },
  { name: '凤巢乡' },
];

/** Health centre name for a township. */
export function townshipCentreName(t: TownshipName, index: number): string {
  if (t.seat) return `${t.name}社区卫生服务中心`;
  // the larger towns run a central health centre (中心卫生院)
  return index <= 3 ? `${t.name}中心卫生院` : `${t.name}卫生院`;
}

/** Residents' committees (社区) at township seats: URBAN_BLOCK grids. */
export const URBAN_BLOCKS = ['城东', '城西', '城南', '城北', '新城', '凤凰', '解放', '中山', '滨江', '文昌', '人民', '朝阳'];
export const STREETS = ['解放街', '人民路', '中山路', '新华路', '城东路', '滨江路', '兴平路', '坡南街', '凤凰路', '文化路', '建设路', '车站大道'];

const VILLAGE_PREFIX = [
  '东', '西', '南', '北', '上', '下', '前', '后', '中', '新', '大', '小', '高', '白', '石', '黄', '青', '岭', '溪', '湖',
  '凤', '龙', '桥', '塘', '林', '金', '山', '水', '梅', '竹', '松', '桃', '杨', '柳', '宋', '朱', '郑', '陈', '吴', '蔡',
  '叶', '徐', '章', '池', '鲍', '殿', '官', '丰', '岩', '坦',
];
const VILLAGE_SUFFIX = ['垟', '岙', '坑', '湾', '头', '桥', '埠', '岭', '洋', '山', '塘', '坪', '岗', '溪', '田', '港', '墩', '厝', '底', '背', '尾', '亭', '庄', '寮', '园'];

/** A village name unique within `used`, e.g. 下岙村, 林家垟村. */
export function villageName(rng: Random, used: Set<string>): string {
  for (let attempt = 0; attempt < 200; attempt++) {
    const prefix = rng.pick(VILLAGE_PREFIX);
    const suffix = rng.pick(VILLAGE_SUFFIX);
    const name = rng.chance(0.15) ? `${pickSurnameSimple(rng)}家${suffix}村` : `${prefix}${suffix}村`;
    if (!used.has(name)) {
      used.add(name);
      return name;
    }
  }
  // very large counties: fall back to numbered names
  const name = `${rng.pick(VILLAGE_PREFIX)}${rng.pick(VILLAGE_SUFFIX)}${used.size + 1}村`;
  used.add(name);
  return name;
}

/** Surnames with weights (per 10,000 people), national ranking tilted to southern Zhejiang. */
const SURNAME_WEIGHTS: Array<[string, number]> = [
  ['陈', 720], ['林', 520], ['王', 380], ['黄', 330], ['张', 310], ['郑', 300], ['李', 260], ['吴', 250], ['杨', 200],
  ['周', 190], ['蔡', 190], ['叶', 180], ['徐', 150], ['刘', 140], ['谢', 120], ['金', 110], ['苏', 110], ['朱', 100],
  ['胡', 90], ['潘', 90], ['孙', 80], ['章', 80], ['池', 75], ['缪', 70], ['董', 70], ['何', 65], ['高', 65], ['郭', 60],
  ['赵', 60], ['许', 60], ['方', 55], ['余', 55], ['钱', 50], ['鲍', 45], ['雷', 45], ['蓝', 40], ['钟', 40], ['姜', 40],
  ['曾', 35], ['卢', 35], ['温', 35], ['施', 35], ['戴', 35], ['薛', 30], ['邱', 30], ['宋', 30], ['汤', 30], ['项', 30],
  ['马', 30], ['罗', 30], ['梁', 25], ['唐', 25], ['韩', 25], ['冯', 25], ['邓', 25], ['曹', 25], ['彭', 25], ['肖', 25],
  ['田', 20], ['袁', 20], ['于', 20], ['蒋', 20], ['杜', 20], ['程', 20], ['魏', 20], ['吕', 20], ['丁', 20], ['任', 20],
  ['沈', 20], ['姚', 20], ['崔', 15], ['谭', 15], ['陆', 15], ['汪', 15], ['范', 15], ['石', 15], ['廖', 15], ['夏', 15],
  ['白', 10], ['邹', 10], ['孟', 10], ['熊', 10], ['秦', 10], ['江', 10], ['尹', 10], ['段', 10], ['侯', 10], ['龙', 10],
  ['史', 10], ['陶', 10], ['贺', 10], ['顾', 10], ['毛', 10], ['郝', 8], ['龚', 8], ['邵', 8], ['万', 8], ['严', 8],
  ['孔', 6], ['向', 5], ['欧阳', 3], ['上官', 1], ['司马', 1], ['诸葛', 1],
];
export const SURNAMES: WeightedTable<string> = weighted(SURNAME_WEIGHTS);

function pickSurnameSimple(rng: Random): string {
  return rng.pickWeighted(SURNAMES);
}

// Given names by generation: what people born in each era were typically called.
const GIVEN = {
  male: {
    old: ['建国', '国庆', '德福', '金生', '福生', '长春', '志明', '国华', '德明', '永康', '根生', '有才', '宝林', '荣华', '正义',
      '文彬', '庆丰', '炳南', '兆丰', '锡林', '孝忠', '仁德', '松林', '振华', '光明', '定国', '守信', '茂林', '福全', '贤良'],
    mid: ['建华', '卫东', '红军', '志强', '海波', '立新', '国强', '建军', '文斌', '小平', '伟民', '晓东', '明华', '永明', '剑锋',
      '建平', '俊杰', '春雷', '勇', '军', '斌', '平', '华', '杰', '刚', '涛', '强', '伟', '东', '辉'],
    young: ['浩', '宇', '杰', '磊', '鹏', '超', '俊', '博', '鑫', '晨', '浩然', '宇航', '子豪', '一鸣', '俊杰', '思远', '志豪',
      '文轩', '家豪', '建宇', '晓峰', '泽宇', '天宇', '子涵', '明轩', '嘉豪', '永康', '佳乐', '梓豪', '昊天'],
  },
  female: {
    old: ['秀英', '桂英', '秀兰', '玉兰', '桂兰', '素珍', '爱华', '凤英', '月娥', '秀珍', '玉珍', '金花', '彩凤', '翠英', '美玉',
      '菊英', '兰英', '雪梅', '春花', '桂芳', '小妹', '阿香', '巧云', '银花', '素娥', '淑贞', '爱莲', '月英', '秀琴', '碧云'],
    mid: ['红梅', '丽华', '美华', '海燕', '晓红', '建芬', '丽娟', '春燕', '秀芳', '玉梅', '雪芳', '彩霞', '素芬', '小燕', '丽萍',
      '燕', '萍', '红', '霞', '芳', '静', '琴', '敏', '娟', '丽', '英', '慧', '艳', '莉', '瑛'],
    young: ['婷', '颖', '雪', '洁', '佳', '琳', '倩', '丹', '蕾', '欣', '婷婷', '佳怡', '雨欣', '梦瑶', '思琪', '诗涵', '晓雯',
      '欣怡', '雅婷', '子涵', '一诺', '紫涵', '梓萱', '雨桐', '可馨', '佳琪', '心怡', '语嫣', '静怡', '若曦'],
  },
} as const;

/** A generational prefix (字辈) plus a random second character makes given names more varied. */
const GEN_CHARS = {
  male: ['建', '国', '志', '文', '德', '永', '明', '世', '家', '宗', '守', '光', '振', '正', '海', '学', '立', '忠', '新', '金', '春', '仁', '伟', '晓', '良', '成', '庆', '其'],
  female: ['秀', '美', '丽', '素', '月', '彩', '玉', '雪', '春', '爱', '凤', '小', '桂', '金', '晓', '海', '红', '亚', '静', '银', '兰', '碧', '巧', '慧', '淑', '锦', '翠', '燕'],
};
const SECOND_CHARS = {
  male: ['华', '林', '平', '明', '军', '民', '良', '成', '荣', '清', '新', '海', '松', '勇', '斌', '忠', '彬', '峰', '辉', '杰', '雄', '强', '龙', '生', '发', '达', '东', '涛', '波', '亮'],
  female: ['英', '兰', '芳', '珍', '娟', '燕', '萍', '琴', '霞', '梅', '莲', '娥', '花', '云', '菊', '芬', '香', '玲', '凤', '娇', '丹', '红', '艳', '清', '仙', '秀', '妹', '莉', '敏', '蓉'],
};

/**
 * A full Chinese name, family name first and without a space. `dominant` are the clan surnames of the
 * person's village (many villages in the area are largely one or two lineages).
 */
export function personName(rng: Random, male: boolean, birthYear: number, dominant: readonly string[] = []): string {
  const surname = dominant.length > 0 && rng.chance(0.35) ? rng.pick(dominant) : rng.pickWeighted(SURNAMES);
  const sex = male ? 'male' : 'female';
  const era = birthYear < 1958 ? 'old' : birthYear < 1985 ? 'mid' : 'young';
  const given = rng.chance(0.35) ? rng.pick(GIVEN[sex][era]) : rng.pick(GEN_CHARS[sex]) + rng.pick(SECOND_CHARS[sex]);
  return surname + given;
}

/** A dominant-lineage set for a village: one or two surnames. */
export function villageLineages(rng: Random): string[] {
  const first = rng.pickWeighted(SURNAMES);
  if (!rng.chance(0.4)) return [first];
  let second = rng.pickWeighted(SURNAMES);
  if (second === first) second = rng.pickWeighted(SURNAMES);
  return second === first ? [first] : [first, second];
}

const MOBILE_PREFIXES = ['133', '135', '136', '137', '138', '139', '150', '151', '152', '153', '157', '158', '159', '177', '180', '181', '182', '187', '188', '189', '198', '199'];

/** A mainland mobile number, or (for some older people) a landline in the county's area code. */
export function phoneNumber(rng: Random, age: number): string | undefined {
  if (age >= 75 && rng.chance(0.12)) return undefined;
  if (age >= 65 && rng.chance(0.15)) return `${COUNTY.phonePrefix}-63${String(rng.int(0, 999999)).padStart(6, '0')}`;
  return rng.pick(MOBILE_PREFIXES) + String(rng.int(0, 99999999)).padStart(8, '0');
}

export function orgPhone(rng: Random): string {
  return `${COUNTY.phonePrefix}-6${String(rng.int(3000000, 8999999))}`;
}
