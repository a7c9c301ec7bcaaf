// The shop itself, the same for every seed: the markets it sells in, its warehouses (with the addresses
// returns go to) and its suppliers.

/** Where a customer buys from: China pays in yuan from Chinese warehouses, abroad in dollars from Los Angeles. */
export type Market = 'CN' | 'US';

/** Where customers send goods back to each warehouse (the options offered after shipment give it). */
export const WAREHOUSES = [
  {
    code: 'WH-SH-01',
    name: { 'zh-CN': '上海仓', en: 'Shanghai' },
    market: 'CN',
    returnAddress: {
      'zh-CN': '上海市浦东新区金科路 88 号 上海仓 退货组（邮编 201203）',
      en: 'Returns desk, Shanghai warehouse, 88 Jinke Road, Pudong, Shanghai 201203, China',
    },
  },
  {
    code: 'WH-GZ-01',
    name: { 'zh-CN': '广州仓', en: 'Guangzhou' },
    market: 'CN',
    returnAddress: {
      'zh-CN': '广州市白云区太和镇物流大道 12 号 广州仓 退货组（邮编 510540）',
      en: 'Returns desk, Guangzhou warehouse, 12 Wuliu Avenue, Baiyun, Guangzhou 510540, China',
    },
  },
  {
    code: 'WH-LA-01',
    name: { 'zh-CN': '洛杉矶仓', en: 'Los Angeles' },
    market: 'US',
    returnAddress: {
      'zh-CN': '美国加州安大略市 E Airport Dr 4200 号 退货组（邮编 91761）',
      en: 'Returns, 4200 E Airport Dr, Ontario, CA 91761, USA',
    },
  },
] as const;
/** Where a drop-shipped line "ships from": the supplier sends it, no warehouse of ours holds stock for it. */
export const DROP_SHIP_LOCATION = 'DROP-SHIP';

export interface Supplier {
  supplierId: string;
  name: string;
  email: string;
  phone: string;
}

export const SUPPLIERS: readonly Supplier[] = (
  [
    ['SUP-01', '杭州西湖龙井茶业有限公司', 'orders@xihu-tea.example.cn', '+86 571 8796 2201'],
    ['SUP-02', '安溪铁观音茶业合作社', 'sales@anxi-tea.example.cn', '+86 595 2322 1180'],
    ['SUP-03', '云南勐海普洱茶厂', 'po@menghai-puer.example.cn', '+86 691 5122 0307'],
    ['SUP-04', '宜兴紫砂陶艺厂', 'orders@yixing-zisha.example.cn', '+86 510 8716 4432'],
    ['SUP-05', '景德镇瓷业有限公司', 'trade@jdz-porcelain.example.cn', '+86 798 8221 5060'],
    ['SUP-06', '德化白瓷制品厂', 'sales@dehua-ceramics.example.cn', '+86 595 2358 7719'],
    ['SUP-07', '福建竹木工艺品公司', 'orders@fj-bamboo.example.cn', '+86 591 8380 2245'],
    ['SUP-08', '佛山厨电科技有限公司', 'b2b@foshan-appliance.example.cn', '+86 757 8632 9901'],
    ['SUP-09', 'Kyoto Teaware Trading Co.', 'orders@kyoto-teaware.example.com', '+81 75 555 0142'],
    ['SUP-10', '潮州茶具批发中心', 'pifa@chaozhou-teaware.example.cn', '+86 768 2265 4410'],
  ] as const
).map(([supplierId, name, email, phone]) => ({ supplierId, name, email, phone }));
