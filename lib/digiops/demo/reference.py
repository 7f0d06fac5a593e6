"""Reference vocabularies of the demo client: places (real names ``cpca`` resolves), names, stores, products.

Everything here is a plain constant or derived once from one, so generation is deterministic.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: (region, province, city, districts) — real administrative names; municipalities have province == city
CITIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("华东", "上海市", "上海市", ("黄浦区", "徐汇区", "静安区", "浦东新区", "闵行区", "长宁区")),
    ("华东", "浙江省", "杭州市", ("西湖区", "拱墅区", "滨江区", "上城区")),
    ("华东", "江苏省", "南京市", ("鼓楼区", "玄武区", "建邺区", "秦淮区")),
    ("华东", "江苏省", "苏州市", ("姑苏区", "吴中区", "虎丘区")),
    ("华南", "广东省", "广州市", ("天河区", "越秀区", "海珠区", "番禺区")),
    ("华南", "广东省", "深圳市", ("南山区", "福田区", "罗湖区", "宝安区")),
    ("华南", "福建省", "厦门市", ("思明区", "湖里区")),
    ("华北", "北京市", "北京市", ("朝阳区", "海淀区", "东城区", "西城区", "丰台区")),
    ("华北", "天津市", "天津市", ("和平区", "南开区", "河西区")),
    ("华北", "河北省", "石家庄市", ("长安区", "桥西区", "裕华区")),
)
REGIONS = ("华东", "华南", "华北")
#: stores per city (sums to 30: 华东 12, 华南 9, 华北 9)
STORES_PER_CITY = (5, 3, 2, 2, 4, 3, 2, 5, 2, 2)

STREETS = ("人民路", "中山路", "解放路", "建设路", "文三路", "南京路", "淮海路", "长江路", "黄河路", "新华路",
           "和平路", "学院路", "科技路", "滨江大道", "世纪大道", "朝阳路", "光明街", "青年路", "东风路", "胜利路",
           "北京路", "天河路", "深南大道", "鞍山道", "友谊路", "湖滨路", "环城西路", "延安路", "复兴路", "迎宾大道")
COMMUNITIES = ("阳光花园", "锦绣苑", "华府", "翠苑", "明珠小区", "金色家园", "幸福里", "绿城", "名都", "新村")

#: common surnames with a rough population weight (per mille); polyphonic surnames listed apart
SURNAMES = (("王", 72), ("李", 71), ("张", 69), ("刘", 54), ("陈", 45), ("杨", 31), ("黄", 22), ("赵", 21),
            ("吴", 20), ("周", 19), ("徐", 13), ("孙", 12), ("马", 12), ("朱", 11), ("胡", 10), ("郭", 10),
            ("何", 9), ("林", 9), ("高", 9), ("罗", 9), ("郑", 8), ("梁", 8), ("谢", 7), ("宋", 6), ("唐", 6),
            ("许", 6), ("韩", 6), ("冯", 6), ("邓", 6), ("曹", 5), ("彭", 5), ("萧", 4), ("田", 4), ("董", 4),
            ("潘", 4), ("袁", 4), ("蔡", 4), ("蒋", 4), ("余", 4), ("于", 4), ("杜", 4), ("叶", 4), ("程", 4),
            ("魏", 3), ("苏", 3), ("吕", 3), ("丁", 3), ("任", 3), ("卢", 3), ("姚", 3), ("沈", 3), ("钟", 3),
            ("姜", 3), ("崔", 3), ("谭", 3), ("陆", 3), ("范", 3), ("汪", 3), ("廖", 3), ("石", 3), ("金", 3),
            ("欧阳", 1), ("司马", 0.3))
#: polyphonic surnames: (hanzi, surname reading, ordinary reading, weight per mille). 曾 is common (~0.3 %), the
#: rest rare; their combined share is kept a little above reality so small samples contain every one
POLYPHONIC_SURNAMES = (("曾", "zeng", "ceng", 8), ("单", "shan", "dan", 3), ("解", "xie", "jie", 3),
                       ("区", "ou", "qu", 2), ("仇", "qiu", "chou", 2), ("朴", "piao", "pu", 3),
                       ("查", "zha", "cha", 3))
GIVEN_CHARS = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红玲晶欣怡佳悦梓涵子轩浩宇"
                    "雨萱一诺思远嘉欣文博俊杰晨曦雅琪家豪志强海燕建国建华秀英婷婷鹏飞晓东丹丹宁波雪梅")
#: typo look-alikes / homophones a clerk types by mistake
TYPO_PAIRS = {"伟": "玮", "芳": "方", "娜": "哪", "静": "靜", "丽": "莉", "强": "墙", "军": "君", "洋": "阳",
              "杰": "洁", "涛": "滔", "明": "鸣", "超": "朝", "霞": "侠", "刚": "钢", "英": "瑛", "华": "桦",
              "玉": "钰", "兰": "岚", "萍": "苹", "红": "虹", "玲": "铃", "晶": "菁", "欣": "鑫", "怡": "仪",
              "佳": "嘉", "悦": "月", "涵": "晗", "轩": "宣", "浩": "皓", "宇": "雨", "思": "斯", "远": "源",
              "博": "波", "俊": "骏", "晨": "辰", "雅": "亚", "琪": "淇", "豪": "浩", "海": "凯", "燕": "艳",
              "建": "健", "国": "果", "秀": "绣", "婷": "亭", "鹏": "朋", "飞": "菲", "晓": "小", "东": "冬",
              "丹": "单", "宁": "凝", "波": "博", "雪": "雷", "梅": "玫", "敏": "民", "磊": "蕾", "勇": "永",
              "艳": "燕", "娟": "鹃", "平": "萍", "桂": "贵", "文": "雯", "嘉": "佳", "家": "佳", "志": "智",
              "子": "梓", "梓": "子", "一": "依", "诺": "娜", "雨": "语", "萱": "宣", "曦": "熙"}
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "foxmail.com", "outlook.com")
NICKNAME_WORDS = ("小", "阿", "大", "甜", "茶", "喵", "猫", "momo", "柠檬", "奶盖", "芒果", "桃子", "星星", "月亮",
                  "Lucky", "Sunny", "Coco", "Lily", "Tony", "Kiki", "糖", "果", "宝", "酱")
#: mobile prefixes (real carrier ranges)
PHONE_PREFIXES = (130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159, 166, 177,
                  180, 181, 182, 185, 186, 187, 188, 189, 191, 198, 199)
PHONE_PLACEHOLDERS = ("无", "-", "NULL", "13800000000", "")

SOCIAL_CHANNELS = (("小红书", 0.40), ("抖音", 0.30), ("微信公众号", 0.20), ("微博", 0.10))
SOCIAL_CAMPAIGNS = {"小红书": ("夏日果茶种草", "新品试喝官", "秋冬奶茶笔记"),
                    "抖音": ("618直播间", "双11直播专场", "达人探店"),
                    "微信公众号": ("关注领券", "会员日推文", "新店开业"),
                    "微博": ("话题抽奖", "明星同款")}
CARRIERS = (("顺丰速运", 0.40), ("中通快递", 0.20), ("圆通速递", 0.15), ("京东物流", 0.15), ("韵达快递", 0.10))
MEMBER_LEVELS = ("普通会员", "银卡会员", "金卡会员", "钻石会员")

#: (category, [(product name, price yuan)]) — tea drinks and snacks, 60 SKUs
PRODUCTS: tuple[tuple[str, tuple[tuple[str, float], ...]], ...] = (
    ("奶茶", (("招牌珍珠奶茶", 15), ("黑糖波波牛乳", 18), ("芋泥波波奶茶", 19), ("焦糖奶茶", 16),
            ("抹茶拿铁", 20), ("椰椰奶冻", 17), ("桂花乌龙奶茶", 18), ("生椰拿铁", 19), ("红豆奶茶", 14),
            ("布丁奶茶", 15), ("奶盖四季春", 17), ("厚乳茉莉", 18))),
    ("果茶", (("满杯百香果", 14), ("多肉葡萄", 22), ("芝芝莓莓", 23), ("杨枝甘露", 21), ("柠檬绿茶", 12),
            ("鲜橙四季春", 15), ("桃桃乌龙", 19), ("西瓜啵啵", 16), ("芒果冰沙", 18), ("青提茉莉", 20),
            ("暴打柠檬茶", 13), ("荔枝冰茶", 17))),
    ("原叶茶", (("茉莉绿茶", 10), ("四季春茶", 10), ("冻顶乌龙", 12), ("大红袍", 14), ("普洱熟茶", 14),
             ("白桃乌龙", 13), ("金骏眉", 15), ("桂花龙井", 16))),
    ("零食", (("原味薯片", 9), ("海苔脆", 12), ("芒果干", 16), ("每日坚果", 25), ("牛肉粒", 28),
            ("猪肉脯", 22), ("蛋黄酥", 18), ("凤梨酥", 20), ("麻薯", 12), ("鸡蛋仔", 15), ("爆米花", 10),
            ("辣条礼包", 8))),
    ("烘焙", (("芝士蛋糕", 26), ("提拉米苏", 28), ("肉松小贝", 12), ("菠萝包", 9), ("可颂", 11),
            ("蛋挞", 8), ("司康", 10), ("毛巾卷", 24))),
    ("礼盒", (("茶礼盒·春", 168), ("茶礼盒·秋", 198), ("中秋茶点礼盒", 258), ("新春零食大礼包", 128),
            ("下午茶双人套装", 68), ("伴手礼茶饼", 88), ("节日零食礼盒", 99), ("会员定制茶具", 299))),
)


def price_band(price: float) -> str:
    """低 (< ¥15), 中 (¥15–30), 高 (¥30–100), 礼品 (≥ ¥100)."""
    if price < 15:
        return "低"
    if price < 30:
        return "中"
    if price < 100:
        return "高"
    return "礼品"


@lru_cache(maxsize=1)
def surname_table() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Surnames, their probabilities, surname pinyin and the naive (ordinary-reading) pinyin."""
    from pypinyin import lazy_pinyin

    names, weights, proper, naive = [], [], [], []
    for name, weight in SURNAMES:
        reading = "".join(lazy_pinyin(name))
        names.append(name), weights.append(weight), proper.append(reading), naive.append(reading)
    for name, surname_reading, ordinary, weight in POLYPHONIC_SURNAMES:
        names.append(name), weights.append(weight), proper.append(surname_reading), naive.append(ordinary)
    probabilities = np.asarray(weights, dtype=float)
    return (np.asarray(names, dtype=object), probabilities / probabilities.sum(),
            np.asarray(proper, dtype=object), np.asarray(naive, dtype=object))


@lru_cache(maxsize=1)
def given_table() -> tuple[np.ndarray, np.ndarray]:
    """Given-name characters and their pinyin."""
    from pypinyin import lazy_pinyin

    chars = sorted(set(GIVEN_CHARS))
    return np.asarray(chars, dtype=object), np.asarray(["".join(lazy_pinyin(c)) for c in chars], dtype=object)


@lru_cache(maxsize=1)
def traditional_map() -> dict[str, str]:
    """Simplified → Traditional for every character the generator uses in names (only those that differ)."""
    import opencc

    converter = opencc.OpenCC("s2t")
    chars = set(GIVEN_CHARS) | {s for s, _ in SURNAMES} | {p[0] for p in POLYPHONIC_SURNAMES} | set(
        TYPO_PAIRS.values())
    chars = {c for name in chars for c in name}
    return {c: converter.convert(c) for c in sorted(chars) if converter.convert(c) != c}


def districts() -> list[tuple[str, str, str, str]]:
    """Every (region, province, city, district), in a fixed order."""
    return [(region, province, city, district) for region, province, city, ds in CITIES for district in ds]


# --- vocabularies of the platform-era dirt --------------------------------------------------------------------------
#: whole nicknames people pick (WeChat, Douyin, Xiaohongshu), emoji included
NICKNAMES = ("小鱼儿🐟", "快乐星球", "奶茶续命", "一只猫🐱", "阳光男孩", "Lily", "Coco", "Tony", "Kiki", "Amy",
             "Sunny☀️", "🌸", "🍀🍀", "追光的人", "momo", "木子", "橙子🍊", "大白", "小可爱", "岁月静好",
             "A-王姐代购", "浅笑💕", "风轻云淡", "Jason", "柠檬精🍋", "晴天", "✨星星✨", "蜡笔小新", "Anna", "糖糖")
EMOJI = ("🐟", "🌸", "🍀", "💕", "✨", "🍋", "🐱", "☀️", "🌙", "🍓", "🐰", "🌈")
#: honorifics a lead form or a cashier writes after the surname, by gender (suffix, weight)
HONORIFICS = {"F": (("女士", 0.62), ("小姐", 0.10), ("姐", 0.14), ("老师", 0.09), ("总", 0.05)),
              "M": (("先生", 0.66), ("哥", 0.14), ("总", 0.12), ("老师", 0.08))}
#: what a form's name field holds when the customer types nothing useful
LEAD_NAME_PLACEHOLDERS = ("无", "客户", "未知", "test")
#: the same in an order's buyer / receiver name (never `test`: that marks staff test orders)
ORDER_NAME_PLACEHOLDERS = ("无", "客户", "亲", ".")
#: who signs for a parcel instead of the buyer
PROXY_RECEIVERS = ("前台代收", "门卫", "丰巢快递柜", "菜鸟驿站", "物业代收", "公司前台", "快递柜")
#: what a clerk writes instead of an address
ADDRESS_PLACEHOLDERS = ("同上", "不详", "无", "-")
#: virtual-number ranges platforms use for privacy numbers
PRIVACY_PREFIXES = (170, 171, 165, 167)
#: real mobile ranges the generator keeps for numbers people change to (disjoint from PHONE_PREFIXES)
NEW_PHONE_PREFIXES = (134, 147, 153, 173, 175, 176, 178, 183, 184, 193, 195)


@lru_cache(maxsize=1)
def chinese_numerals() -> np.ndarray:
    """Chinese numerals for 0 … 999 as a clerk writes house numbers: 十八, 一百零五, 二百二十."""
    digits = "零一二三四五六七八九"

    def spell(n: int) -> str:
        if n < 10:
            return digits[n]
        if n < 20:
            return "十" + (digits[n % 10] if n % 10 else "")
        if n < 100:
            return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")
        rest = n % 100
        head = digits[n // 100] + "百"
        if rest == 0:
            return head
        if rest < 10:
            return head + "零" + digits[rest]
        return head + (digits[rest // 10] + "十" + (digits[rest % 10] if rest % 10 else ""))

    return np.asarray([spell(n) for n in range(1000)], dtype=object)
