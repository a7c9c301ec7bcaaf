// The catalogue: eight categories of tea and tea-ware, six kinds by ten forms each, with Chinese and English
// names, prices in yuan and dollars, costs and suppliers. The SKUs are the same for every seed; the prices
// spread a little per seed.
import type { Language } from '../../contracts/books.contract';
import { mix, pick, seededRandom, STREAMS } from './random';

type NamePair = readonly [zh: string, en: string];
type Form = readonly [zh: string, en: string, priceFactor: number];

interface Category {
  code: string;
  /** CNY minor units of the cheapest kind in its plainest form. */
  basePriceMinor: number;
  suppliers: readonly string[];
  kinds: readonly NamePair[];
  forms: readonly Form[];
}

const pairs = (text: string): NamePair[] =>
  text.split(';').map((pair) => {
    const [zh = '', en = ''] = pair.split('|').map((part) => part.trim());
    return [zh, en] as const;
  });
const forms = (text: string): Form[] =>
  text.split(';').map((form) => {
    const [zh = '', en = '', factor = '1'] = form.split('|').map((part) => part.trim());
    return [zh, en, Number(factor)] as const;
  });

// Six kinds by ten forms: sixty SKUs a category.
const CATEGORIES: readonly Category[] = [
  {
    code: 'TEA',
    basePriceMinor: 6800,
    suppliers: ['SUP-01', 'SUP-02', 'SUP-03'],
    kinds: pairs(
      '西湖龙井|West Lake Longjing; 安溪铁观音|Anxi Tieguanyin; 云南普洱|Yunnan Pu-erh; ' +
        '洞庭碧螺春|Dongting Biluochun; 武夷大红袍|Wuyi Da Hong Pao; 福鼎白茶|Fuding white tea',
    ),
    forms: forms(
      '50g 罐装|50 g tin|1; 100g 罐装|100 g tin|1.8; 250g 纸包|250 g pack|3.8; 500g 礼盒|500 g gift box|8; ' +
        '357g 茶饼|357 g cake|5; 试饮装|tasting pack|0.6; 袋泡茶 20包|20 tea bags|0.9; ' +
        '特级 100g|premium grade 100 g|2.6; 一级 250g|first grade 250 g|3; 散装 1kg|loose 1 kg|12',
    ),
  },
  {
    code: 'CUP',
    basePriceMinor: 4500,
    suppliers: ['SUP-05', 'SUP-06'],
    kinds: pairs(
      '青花瓷|blue-and-white porcelain; 汝窑|Ru ware; 建盏|Jian ware; 德化白瓷|Dehua white porcelain; ' +
        '耐热玻璃|heat-resistant glass; 粗陶|stoneware',
    ),
    forms: forms(
      '品茗杯 60ml|tasting cup 60 ml|1; 品茗杯 80ml|tasting cup 80 ml|1.1; 主人杯 100ml|master cup 100 ml|1.5; ' +
        '主人杯 150ml|master cup 150 ml|1.7; 闻香杯对杯|aroma cup pair|1.8; 马克杯 300ml|mug 300 ml|1.4; ' +
        '带杯托|cup with saucer|1.6; 四只装|set of 4|3.5; 六只装|set of 6|5; 情侣对杯|cups for two|2',
    ),
  },
  {
    code: 'POT',
    basePriceMinor: 38800,
    suppliers: ['SUP-04', 'SUP-05'],
    kinds: pairs(
      '宜兴紫砂|Yixing zisha; 朱泥|zhuni clay; 景德镇瓷|Jingdezhen porcelain; 铸铁|cast iron; ' +
        '高硼硅玻璃|borosilicate glass; 纯银|sterling silver',
    ),
    forms: forms(
      '西施壶 200ml|Xishi teapot 200 ml|1; 石瓢壶 250ml|Shipiao teapot 250 ml|1.2; ' +
        '仿古壶 180ml|Fanggu teapot 180 ml|1.1; 掇球壶 300ml|Duoqiu teapot 300 ml|1.3; ' +
        '提梁壶 800ml|top-handle teapot 800 ml|1.8; 小品壶 100ml|mini teapot 100 ml|0.8; ' +
        '侧把壶|side-handle teapot|1.2; 煮茶壶 1.2L|brewing pot 1.2 l|1.6; 壶承套装|teapot with stand|1.7; ' +
        '旅行壶|travel teapot|0.9',
    ),
  },
  {
    code: 'BOWL',
    basePriceMinor: 12800,
    suppliers: ['SUP-05', 'SUP-06', 'SUP-10'],
    kinds: pairs(
      '青花|blue-and-white; 粉彩|famille rose; 青瓷|celadon; 天目|tenmoku; 白瓷|white porcelain; 窑变|flambé',
    ),
    forms: forms(
      '盖碗 100ml|gaiwan 100 ml|1; 盖碗 150ml|gaiwan 150 ml|1.2; 茶碗|tea bowl|1; 抹茶碗|matcha bowl|1.5; ' +
        '公道杯|fairness pitcher|0.9; 茶洗|rinsing bowl|1.1; 建水|waste-water bowl|1.2; ' +
        '碗碟套装|bowl and dish set|2.5; 小茶盏|small tea bowl|0.6; 饭碗|rice bowl|0.5',
    ),
  },
  {
    code: 'TRAY',
    basePriceMinor: 26800,
    suppliers: ['SUP-07', 'SUP-10'],
    kinds: pairs('竹|bamboo; 乌金石|black stone; 黑檀|ebony; 胡桃木|walnut; 陶瓷|ceramic; 电木|bakelite'),
    forms: forms(
      '圆形干泡盘|round dry tray|1; 方形干泡盘|square dry tray|1; 小号储水茶盘|small water-holding tray|1.5; ' +
        '大号储水茶盘|large water-holding tray|2.4; 排水茶盘|drainage tray|2.8; 茶台|tea table top|6; ' +
        '壶承|teapot stand|0.5; 杯托六只|6 cup saucers|0.6; 奉茶盘|serving tray|0.9; 旅行茶盘|travel tray|0.7',
    ),
  },
  {
    code: 'KETTLE',
    basePriceMinor: 29900,
    suppliers: ['SUP-08'],
    kinds: pairs('不锈钢|stainless steel; 玻璃|glass; 铸铁|cast iron; 陶|clay; 纯银|silver; 紫铜|copper'),
    forms: forms(
      '电水壶 0.8L|electric kettle 0.8 l|1; 电水壶 1.2L|electric kettle 1.2 l|1.2; ' +
        '电陶炉套装|kettle and hot plate|2.5; 随手泡|instant-boil kettle|1.1; 烧水壶 1L|stovetop kettle 1 l|0.9; ' +
        '煮茶器|tea brewer|1.6; 温控壶|temperature-control kettle|1.5; 手冲壶|pour-over kettle|0.8; ' +
        '保温壶|thermos|0.7; 旅行电水壶|travel kettle|0.6',
    ),
  },
  {
    code: 'CADDY',
    basePriceMinor: 8800,
    suppliers: ['SUP-04', 'SUP-10'],
    kinds: pairs('锡|tin; 陶|ceramic; 马口铁|tinplate; 竹|bamboo; 紫砂|zisha; 漆器|lacquer'),
    forms: forms(
      '小号 50g|small 50 g|1; 中号 100g|medium 100 g|1.3; 大号 250g|large 250 g|1.8; 密封罐|sealed jar|1.2; ' +
        '旅行罐|travel caddy|0.7; 双盖罐|double-lid caddy|1.5; 方罐|square caddy|1.2; 圆罐|round caddy|1.1; ' +
        '礼盒装|in a gift box|2; 普洱罐|Pu-erh jar|2.2',
    ),
  },
  {
    code: 'SET',
    basePriceMinor: 22800,
    suppliers: ['SUP-09', 'SUP-10'],
    kinds: pairs(
      '功夫茶具|gongfu tea set; 旅行茶具|travel tea set; 日式茶具|Japanese tea set; 青花茶具|blue-and-white tea set; ' +
        '玻璃茶具|glass tea set; 紫砂茶具|zisha tea set',
    ),
    forms: forms(
      '一壶两杯|teapot and 2 cups|1; 一壶四杯|teapot and 4 cups|1.4; 一壶六杯|teapot and 6 cups|1.8; ' +
        '含茶盘|with tray|2.5; 便携包|with carry bag|1.1; 礼盒|gift box|1.6; 入门套装|starter set|0.8; ' +
        '全套|complete set|3; 快客杯|quick brew cup|0.5; 办公套装|office set|0.9',
    ),
  },
];

/** Yuan to dollars for the price list abroad, rounded to .99. */
const CNY_PER_USD = 7.1;

export interface CatalogueItem {
  sku: string;
  names: Record<Language, string>;
  /** CNY minor units (fen): the Product's price. */
  unitPriceMinor: number;
  /** The price abroad, USD minor units (cents). */
  unitPriceUsdMinor: number;
  /** What the supplier charges, CNY minor units. */
  unitCostMinor: number;
  supplierId: string;
  /** Units a replenishment orders at least. */
  reorderQuantity: number;
}

/** The catalogue's SKUs, the same for every seed: TEA-001 … SET-060. */
export const SKUS: readonly string[] = CATEGORIES.flatMap((category) =>
  Array.from({ length: 60 }, (_, index) => `${category.code}-${String(index + 1).padStart(3, '0')}`),
);

export function catalogueOf(seed: number): CatalogueItem[] {
  return CATEGORIES.flatMap((category) =>
    category.kinds.flatMap((kind, kindIndex) =>
      category.forms.map((form, formIndex) => {
        const number = kindIndex * category.forms.length + formIndex;
        const sku = `${category.code}-${String(number + 1).padStart(3, '0')}`;
        const random = seededRandom(mix(seed, STREAMS.product, SKUS.indexOf(sku)));
        // Whole yuan; a little spread per seed so two seeds' catalogues differ.
        const yuan = Math.max(
          9,
          Math.round(
            (category.basePriceMinor / 100) * (1 + 0.15 * kindIndex) * form[2] * (0.9 + random() * 0.2),
          ),
        );
        const unitPriceMinor = yuan * 100;
        return {
          sku,
          // 西湖龙井 50g 罐装, 青瓷盖碗 100ml: a space only before a size written in Latin letters.
          names: {
            'zh-CN': `${kind[0]}${/^[\x20-\x7e]/.test(form[0]) ? ' ' : ''}${form[0]}`,
            en: `${kind[1]} ${form[1]}`,
          },
          unitPriceMinor,
          unitPriceUsdMinor: Math.max(1, Math.round(yuan / CNY_PER_USD)) * 100 - 1,
          unitCostMinor: Math.round(unitPriceMinor * (0.45 + random() * 0.2)),
          supplierId: category.suppliers[kindIndex % category.suppliers.length] as string,
          reorderQuantity: pick(random, [12, 24, 36, 48]),
        };
      }),
    ),
  );
}
