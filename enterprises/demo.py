"""The deterministic synthetic population of 晋中市 for the demo and the benchmarks (`manage.py seed_demo`).

Two halves:

1. **Generators** (pure functions, no database): `generate_population()` streams one `EntitySpec` per market
   entity — identity, names, dates, annual reports, changes, licences, honours, complaints, commitments — from a
   single seeded random stream, so the same `entities`, `seed` and `today` give identical data, byte for byte.
   Proportions follow seed 003 (楚雄州 2024: 75,263 enterprises : 239,777 individual businesses : 5,671
   cooperatives; annual-report filing 93.19 % / 96.17 % / 94.6 %).
2. **Steps** that write the data. Each domain adds its own step with `@demo_step("name", order=…)` in its
   `<app>/demo.py` (found by `autodiscover_modules("demo")`), without touching this file: the registry is run in
   `order` by the command. Orders used here: 10 users, 100 the registry population, 10_000 ANALYZE. Later domains
   (penalties, lists, plans, repairs) fit between 100 and 10_000 and read the population from the database.

Bulk writes go through `core.bulk.copy_rows` (PostgreSQL COPY; executemany on SQLite), in chunks that are each
their own transaction, from generators: memory stays flat at 10^6 entities.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import math
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from enterprises import identity

# ==============================================================================================================
# Vocabulary
# ==============================================================================================================

# (code, name, relative size per entity type: enterprise, individual, cooperative). 榆次区 is the urban core
# (the city seat and the development zones); 介休、平遥、太谷 next; the mountain counties 榆社、左权、和顺 smallest.
# Cooperatives are rural, so their spread is flatter.
COUNTIES: tuple[tuple[str, str, tuple[float, float, float]], ...] = (
    ("140702", "榆次区", (34.0, 27.0, 13.0)),
    ("140703", "太谷区", (9.0, 9.0, 11.0)),
    ("140721", "榆社县", (3.0, 3.5, 7.0)),
    ("140722", "左权县", (3.6, 4.0, 7.0)),
    ("140723", "和顺县", (3.3, 3.8, 7.0)),
    ("140724", "昔阳县", (5.0, 5.5, 8.0)),
    ("140725", "寿阳县", (6.0, 6.0, 10.0)),
    ("140727", "祁县", (6.0, 7.0, 9.0)),
    ("140728", "平遥县", (9.5, 11.0, 12.0)),
    ("140729", "灵石县", (7.0, 7.0, 7.0)),
    ("140781", "介休市", (10.0, 11.0, 9.0)),
)
COUNTY_NAMES = {code: name for code, name, _w in COUNTIES}

TOWNS: dict[str, tuple[str, ...]] = {
    "140702": ("东阳镇", "修文镇", "长凝镇", "北田镇", "乌金山镇", "东赵乡", "庄子乡", "张庆乡"),
    "140703": ("明星镇", "胡村镇", "范村镇", "侯城乡", "北洸乡", "水秀乡", "阳邑乡"),
    "140721": ("箕城镇", "云竹镇", "郝北镇", "社城镇", "河峪乡", "北寨乡"),
    "140722": ("辽阳镇", "桐峪镇", "麻田镇", "芹泉镇", "拐儿镇", "寒王乡"),
    "140723": ("义兴镇", "李阳镇", "松烟镇", "青城镇", "横岭镇", "喂马乡"),
    "140724": ("乐平镇", "大寨镇", "皋落镇", "冶头镇", "沾尚镇", "孔氏乡"),
    "140725": ("朝阳镇", "南燕竹镇", "宗艾镇", "平头镇", "松塔镇", "西洛镇"),
    "140727": ("昭馀镇", "东观镇", "古县镇", "贾令镇", "城赵镇", "来远镇"),
    "140728": ("古陶镇", "段村镇", "东泉镇", "洪善镇", "宁固镇", "南政乡", "中都乡"),
    "140729": ("翠峰镇", "静升镇", "两渡镇", "夏门镇", "南关镇", "段纯镇"),
    "140781": ("义安镇", "张兰镇", "连福镇", "洪山镇", "龙凤镇", "绵山镇", "义棠镇"),
}
STREETS_COMMON = (
    "人民路", "新华街", "建设路", "文化路", "解放路", "中心街", "府前街", "迎宾路", "东大街", "西大街",
    "南大街", "北大街", "朝阳路", "育才路", "工业路", "滨河路", "新建路", "兴业街", "商贸街", "顺城路",
)  # fmt: skip
STREETS: dict[str, tuple[str, ...]] = {
    "140702": ("迎宾街", "顺城街", "中都路", "汇通路", "锦纶路", "蕴华街", "安宁街", "龙湖大街", "新建北路", "定阳路"),
    "140728": ("古城南大街", "顺城路", "中都东路", "柳根路"),
    "140781": ("北关街", "新华南街", "顺城路", "裕华路"),
    "140703": ("龙山路", "中都街", "学府街"),
}
VILLAGE_HEADS = (
    "张家", "王家", "李家", "赵家", "刘家", "郭家", "武家", "贾家", "任家", "郝家", "梁家", "段家", "乔家",
    "东", "西", "南", "北", "上", "下", "前", "后", "大", "小", "石", "杨", "柳",
    "桃园", "龙门", "马", "白", "红", "高",
)  # fmt: skip
VILLAGE_TAILS = (
    "庄", "村", "堡", "沟", "峪", "坪", "营", "寨", "岭", "坡", "湾", "河", "洼", "峰", "头", "口",
)  # fmt: skip

# 字号 characters: the common auspicious ones, and rare name characters that must survive every layer (fonts,
# search, PDF): 喆 堃 赟 玥 垚 淼 犇 焱.
ZIHAO_COMMON = (
    "恒泰鑫源华盛晋丰德顺兴隆宏瑞福康昌嘉润通达永安和祥利信金辉宝聚荣汇泽美佳诚益鸿远新天海志博晨晟昊锦凯亿众"
    "腾飞翔宇乾坤豪旺发茂广正平鼎创伟峰龙凤腾骏强富"
)
ZIHAO_RARE = "喆堃赟玥垚淼犇焱"

# (surname, relative frequency): the national top surnames and Shanxi's own (武 贾 郝 阎 乔 申 …).
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 8), ("李", 7), ("张", 7), ("刘", 5), ("赵", 4), ("郭", 3.5), ("杨", 3), ("武", 2.5),
    ("贾", 2), ("高", 2), ("任", 1.8), ("郝", 1.6), ("梁", 1.6), ("段", 1.4), ("阎", 1.3), ("乔", 1.2),
    ("申", 1), ("牛", 1), ("薛", 1), ("温", 1), ("白", 1), ("田", 1), ("常", 1), ("霍", 0.9),
    ("冀", 0.8), ("曹", 0.9), ("马", 1.2), ("韩", 1.1), ("孟", 0.9), ("吕", 0.8), ("宋", 0.8), ("侯", 0.9),
    ("程", 0.8), ("史", 0.8), ("靳", 0.7), ("成", 0.6), ("秦", 0.7), ("陈", 1.2), ("周", 0.8), ("吴", 0.7),
    ("孙", 0.9), ("胡", 0.8), ("朱", 0.7), ("徐", 0.6), ("石", 0.6), ("范", 0.6), ("康", 0.5), ("冯", 0.7),
    ("董", 0.7), ("邢", 0.4), ("岳", 0.4), ("闫", 0.6), ("崔", 0.5), ("卫", 0.4), ("燕", 0.3),
)  # fmt: skip
GIVEN_MALE = (
    "建国", "建军", "志强", "国强", "文斌", "晓东", "俊杰", "鹏飞", "海军", "永红", "卫东", "小平", "建华", "志刚",
    "伟", "强", "军", "勇", "磊", "涛", "明", "超", "刚", "斌", "杰", "鹏", "浩", "宇",
    "鑫", "昊", "睿", "晨", "振华", "保平", "二虎", "拴柱", "福生", "宝山", "文龙", "建平", "三喜", "晋生",
    "晋平", "志军", "海龙", "瑞", "喆", "堃", "赟", "垚", "子豪", "浩然", "一鸣", "天佑",
)  # fmt: skip
GIVEN_FEMALE = (
    "丽娟", "海燕", "红梅", "秀英", "晓燕", "丽华", "桂英", "秀兰", "艳", "敏", "静", "娟", "霞", "平",
    "芳", "丽", "燕", "婷", "洁", "琳", "雪", "慧", "玉梅", "美玲", "春花", "晓红", "晋芳", "瑞芳",
    "玥", "淼", "璐", "琦", "欣怡", "梓涵", "雨萱", "佳琪",
)  # fmt: skip

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "155",
    "156", "157", "158", "159", "180", "181", "182", "183", "185", "186", "187", "188", "189",
)  # fmt: skip
MAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "139.com")

# ==============================================================================================================
# Industries (GB/T 4754-2017 classes) per entity type, with the words that names are made of and key areas
# ==============================================================================================================


@dataclass(frozen=True, slots=True)
class IndustryProfile:
    """One GB/T 4754-2017 class as it appears in the demo: its weight, name words and key areas (seed 002)."""

    code: str  # section letter + 4-digit class, e.g. "F5212"
    weight: float
    words: tuple[str, ...]  # enterprises: 行业用语; individual businesses: shop words; cooperatives: products
    key_areas: tuple[str, ...] = ()
    kind: str = ""  # cooperatives only: 种植 / 养殖 / 农机

    @property
    def division(self) -> str:
        return self.code[1:3]


FOOD_P = ("food_production",)
FOOD_S = ("food_distribution",)
CATER = ("catering",)

# Enterprises: wholesale (F51), manufacturing (C13/C14/C30 …, coal and coke of 介休/灵石), construction (E47/E48),
# business services (L72), residents' services (O80) carry the weight, as in a Shanxi prefecture.
ENTERPRISE_INDUSTRIES: tuple[IndustryProfile, ...] = (
    IndustryProfile("F5121", 2.0, ("粮油贸易", "商贸"), FOOD_S),
    IndustryProfile("F5123", 1.5, ("果蔬", "农产品"), FOOD_S),
    IndustryProfile("F5127", 1.5, ("酒业", "商贸"), FOOD_S),
    IndustryProfile("F5151", 0.7, ("医药", "药业"), ("drugs",)),
    IndustryProfile("F5161", 3.5, ("煤炭销售", "能源", "煤业"), ()),
    IndustryProfile("F5165", 3.5, ("建材", "建材贸易"), ()),
    IndustryProfile("F5174", 3.0, ("五金机电", "物资"), ()),
    IndustryProfile("F5191", 1.0, ("再生资源", "物资回收"), ()),
    IndustryProfile("F5212", 2.5, ("商贸", "商业连锁"), FOOD_S),
    IndustryProfile("F5219", 4.0, ("商贸", "百货"), FOOD_S),
    IndustryProfile("F5251", 1.5, ("大药房", "医药连锁"), ("drugs",)),
    IndustryProfile("F5254", 0.4, ("医疗器械",), ("medical_devices",)),
    IndustryProfile("F5261", 1.0, ("汽车销售", "汽车贸易"), ()),
    IndustryProfile("F5265", 0.8, ("石油", "能源"), ("measurement",)),
    IndustryProfile("C1314", 0.8, ("杂粮", "粮油"), FOOD_P),
    IndustryProfile("C1331", 0.4, ("油脂", "粮油"), FOOD_P),
    IndustryProfile("C1353", 0.6, ("肉制品", "食品"), FOOD_P),
    IndustryProfile("C1371", 0.5, ("农产品加工", "食品"), FOOD_P),
    IndustryProfile("C1411", 1.0, ("食品", "饼业"), FOOD_P),
    IndustryProfile("C1431", 0.8, ("食品", "面业"), FOOD_P),
    IndustryProfile("C1462", 1.0, ("醋业", "酿造"), FOOD_P),
    IndustryProfile("C1512", 0.7, ("酒业", "酿酒"), FOOD_P),
    IndustryProfile("C1522", 0.3, ("饮用水", "饮品"), FOOD_P),
    IndustryProfile("C1819", 0.4, ("服饰", "服装"), ()),
    IndustryProfile("C2110", 0.4, ("家具",), ()),
    IndustryProfile("C2231", 0.3, ("包装", "纸业"), ()),
    IndustryProfile("C2521", 1.2, ("焦化", "煤化工"), ("special_equipment", "industrial_products")),
    IndustryProfile("C2740", 0.2, ("药业", "制药"), ("drugs",)),
    IndustryProfile("C2922", 0.4, ("塑业", "管业"), ()),
    IndustryProfile("C3011", 0.6, ("水泥", "建材"), ("industrial_products",)),
    IndustryProfile("C3021", 0.9, ("水泥制品", "建材"), ()),
    IndustryProfile("C3031", 0.9, ("新型建材", "砖业"), ()),
    IndustryProfile("C3089", 0.4, ("耐火材料",), ()),
    IndustryProfile("C3130", 0.6, ("钢铁", "特钢"), ("special_equipment", "industrial_products")),
    IndustryProfile("C3311", 0.8, ("钢结构",), ()),
    IndustryProfile("C3411", 0.3, ("锅炉",), ("special_equipment",)),
    IndustryProfile("C3511", 0.8, ("机械制造", "矿山机械"), ()),
    IndustryProfile("C3670", 0.6, ("汽车配件", "机械"), ()),
    IndustryProfile("B0610", 1.0, ("煤业", "煤矿"), ("special_equipment",)),
    IndustryProfile("B1011", 0.3, ("矿业",), ()),
    IndustryProfile("D4416", 0.4, ("新能源", "光伏"), ()),
    IndustryProfile("D4430", 0.3, ("热力", "供热"), ("special_equipment",)),
    IndustryProfile("D4511", 0.2, ("燃气",), ("special_equipment",)),
    IndustryProfile("E4710", 3.0, ("建筑工程", "建设"), ()),
    IndustryProfile("E4790", 1.0, ("建筑工程",), ()),
    IndustryProfile("E4812", 1.5, ("路桥工程", "公路工程"), ()),
    IndustryProfile("E4813", 1.5, ("市政工程",), ()),
    IndustryProfile("E4840", 0.6, ("矿建工程",), ()),
    IndustryProfile("E4910", 1.0, ("电力工程", "电气安装"), ()),
    IndustryProfile("E4920", 0.6, ("安装工程",), ()),
    IndustryProfile("E5011", 1.2, ("装饰工程", "装饰设计"), ()),
    IndustryProfile("G5431", 3.0, ("物流", "运输", "货运"), ()),
    IndustryProfile("G5821", 0.8, ("物流", "供应链管理"), ()),
    IndustryProfile("G5920", 0.6, ("仓储", "仓储物流"), ()),
    IndustryProfile("H6110", 0.4, ("酒店管理", "大酒店"), ("special_equipment",)),
    IndustryProfile("H6129", 0.5, ("宾馆", "酒店管理"), ()),
    IndustryProfile("H6210", 2.3, ("餐饮管理", "餐饮服务", "饮食文化"), CATER),
    IndustryProfile("H6220", 0.7, ("餐饮管理",), CATER),
    IndustryProfile("I6513", 0.9, ("信息技术", "网络科技", "软件"), ()),
    IndustryProfile("I6531", 0.9, ("科技", "信息技术"), ()),
    IndustryProfile("K7010", 1.3, ("房地产开发", "置业"), ()),
    IndustryProfile("K7020", 1.3, ("物业管理", "物业服务"), ()),
    IndustryProfile("K7030", 0.6, ("房地产经纪",), ()),
    IndustryProfile("L7113", 1.0, ("机械设备租赁", "设备租赁"), ()),
    IndustryProfile("L7212", 1.3, ("投资管理", "投资"), ()),
    IndustryProfile("L7224", 0.7, ("供应链管理",), ()),
    IndustryProfile("L7243", 1.5, ("企业管理咨询", "商务咨询"), ()),
    IndustryProfile("L7259", 1.0, ("广告", "文化传媒", "广告传媒"), ("advertising",)),
    IndustryProfile("L7263", 0.5, ("人力资源", "劳务派遣"), ()),
    IndustryProfile("L7291", 0.4, ("旅行社", "旅游"), ()),
    IndustryProfile("L7299", 1.0, ("商务服务", "文化传播"), ()),
    IndustryProfile("M7320", 0.3, ("科技", "技术研究"), ()),
    IndustryProfile("M7452", 0.3, ("检测技术", "检测"), ("measurement",)),
    IndustryProfile("M7481", 0.7, ("工程管理", "工程项目管理"), ()),
    IndustryProfile("M7519", 0.9, ("科技", "科技发展"), ()),
    IndustryProfile("N7723", 0.3, ("环保科技", "环境治理"), ()),
    IndustryProfile("N7820", 0.5, ("环境卫生", "保洁服务"), ()),
    IndustryProfile("O8010", 1.0, ("家政服务",), ()),
    IndustryProfile("O8040", 0.5, ("美容美发", "美业"), ("cosmetics",)),
    IndustryProfile("O8070", 0.3, ("婚庆服务",), ()),
    IndustryProfile("O8111", 1.0, ("汽车服务", "汽车维修"), ()),
    IndustryProfile("A0141", 1.3, ("农业科技", "农业开发"), ()),
    IndustryProfile("A0151", 0.5, ("农业开发", "果业"), ()),
    IndustryProfile("A0311", 0.4, ("牧业",), ()),
    IndustryProfile("A0313", 0.5, ("牧业", "养殖"), ()),
    IndustryProfile("A0321", 0.4, ("禽业", "养殖"), ()),
    IndustryProfile("A0511", 0.3, ("种业",), ()),
    IndustryProfile("P8393", 0.5, ("文化艺术培训", "教育科技"), ()),
    IndustryProfile("R9030", 0.4, ("文化旅游", "旅游开发"), ()),
)

# Individual businesses: retail (F52) and catering (H62) dominate, then residents' services and repair.
INDIVIDUAL_INDUSTRIES: tuple[IndustryProfile, ...] = (
    IndustryProfile("F5212", 6.0, ("超市", "生活超市", "便民超市"), FOOD_S),
    IndustryProfile("F5213", 8.0, ("便利店", "便民店"), FOOD_S),
    IndustryProfile("F5219", 10.0, ("商店", "日杂店", "百货店", "小卖部"), FOOD_S),
    IndustryProfile("F5221", 2.0, ("粮油店",), FOOD_S),
    IndustryProfile("F5223", 5.0, ("果蔬店", "蔬菜水果店", "水果店"), FOOD_S),
    IndustryProfile("F5224", 4.0, ("鲜肉店", "生鲜店", "肉铺"), FOOD_S),
    IndustryProfile("F5226", 3.0, ("烟酒店", "茶叶店", "烟酒商行"), FOOD_S),
    IndustryProfile("F5232", 5.0, ("服装店", "服饰店"), ()),
    IndustryProfile("F5234", 1.5, ("化妆品店",), ("cosmetics",)),
    IndustryProfile("F5251", 1.5, ("药店", "大药房"), ("drugs",)),
    IndustryProfile("F5274", 2.0, ("手机店", "通讯店"), ()),
    IndustryProfile("F5281", 3.0, ("五金店", "五金建材部", "五金商行"), ()),
    IndustryProfile("F5292", 2.0, ("网店", "电子商务商行"), ()),
    IndustryProfile("H6129", 1.5, ("旅馆", "宾馆", "客栈"), ()),
    IndustryProfile("H6210", 7.0, ("饭店", "餐馆", "酒家", "菜馆"), CATER),
    IndustryProfile("H6220", 3.0, ("快餐店",), CATER),
    IndustryProfile("H6231", 0.7, ("茶馆", "茶社"), CATER),
    IndustryProfile("H6291", 6.0, ("面馆", "刀削面馆", "小吃店", "饸饹面馆"), CATER),
    IndustryProfile("H6299", 2.0, ("烧烤店", "火锅店"), CATER),
    IndustryProfile("O8030", 0.7, ("洗衣店", "干洗店"), ()),
    IndustryProfile("O8040", 4.0, ("理发店", "美发店", "美容美发店"), ()),
    IndustryProfile("O8051", 0.6, ("浴池", "洗浴中心"), ()),
    IndustryProfile("O8060", 0.5, ("照相馆", "摄影工作室"), ()),
    IndustryProfile("O8090", 0.5, ("便民服务部", "家电维修部"), ()),
    IndustryProfile("O8111", 3.0, ("汽修部", "汽车修理部", "汽车美容店"), ()),
    IndustryProfile("O8113", 0.7, ("摩托车修理部", "电动车维修部"), ()),
    IndustryProfile("G5431", 3.0, ("货运部", "运输部"), ()),
    IndustryProfile("E5012", 1.5, ("装饰部", "装饰工作室"), ()),
    IndustryProfile("C1411", 0.8, ("糕点坊", "饼店"), FOOD_P),
    IndustryProfile("C1431", 0.3, ("面食加工坊",), FOOD_P),
    IndustryProfile("C1462", 0.3, ("醋坊",), FOOD_P),
    IndustryProfile("A0141", 1.5, ("蔬菜种植园", "种植园"), ()),
    IndustryProfile("A0313", 1.0, ("养殖场", "养猪场"), ()),
    IndustryProfile("A0321", 0.6, ("养鸡场",), ()),
    IndustryProfile("L7259", 0.8, ("广告部", "图文广告部"), ("advertising",)),
    IndustryProfile("P8393", 0.5, ("培训部", "艺术培训部"), ()),
)

# Farmers' cooperatives: crops (A01) and livestock (A03), plus machinery services.
COOPERATIVE_INDUSTRIES: tuple[IndustryProfile, ...] = (
    IndustryProfile("A0141", 5.0, ("蔬菜", "设施蔬菜", "大棚蔬菜"), kind="种植"),
    IndustryProfile("A0119", 3.0, ("小杂粮", "谷子", "杂粮"), kind="种植"),
    IndustryProfile("A0113", 2.0, ("玉米",), kind="种植"),
    IndustryProfile("A0151", 2.0, ("苹果", "果品"), kind="种植"),
    IndustryProfile("A0152", 1.0, ("葡萄",), kind="种植"),
    IndustryProfile("A0159", 1.5, ("红枣",), kind="种植"),
    IndustryProfile("A0161", 1.5, ("核桃",), kind="种植"),
    IndustryProfile("A0171", 1.5, ("中药材", "连翘", "党参"), kind="种植"),
    IndustryProfile("A0142", 1.0, ("食用菌",), kind="种植"),
    IndustryProfile("A0311", 3.0, ("肉牛", "奶牛"), kind="养殖"),
    IndustryProfile("A0314", 2.5, ("肉羊",), kind="养殖"),
    IndustryProfile("A0313", 2.5, ("生猪",), kind="养殖"),
    IndustryProfile("A0321", 1.5, ("蛋鸡", "肉鸡"), kind="养殖"),
    IndustryProfile("A0392", 0.5, ("蜜蜂",), kind="养殖"),
    IndustryProfile("A0512", 2.5, ("",), kind="农机"),
)

ENTERPRISE, INDIVIDUAL, COOPERATIVE = "enterprise", "individual", "cooperative"
# Seed 003 (楚雄州): 75,263 enterprises : 239,777 individual businesses : 5,671 cooperatives.
TYPE_WEIGHTS: tuple[tuple[str, int], ...] = ((ENTERPRISE, 75_263), (INDIVIDUAL, 239_777), (COOPERATIVE, 5_671))
# Seed 003: annual-report disclosure rates 93.19 % (enterprises), 96.17 % (individual), 94.6 % (cooperatives).
FILING_RATE = {ENTERPRISE: 0.9319, INDIVIDUAL: 0.9617, COOPERATIVE: 0.946}
LATE_SHARE = 0.05  # of the reports filed, the share filed after 30 June (seed 003 §三(四): 384 late filers urged)
# Negligent filers miss year after year: that is what makes the 3-year abnormal-list rule bite in the demo.
NEGLIGENT_FILE_PROBABILITY = 0.35
STATUS_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("operating", 94.5),
    ("suspended", 1.0),  # 歇业 (filed suspension)
    ("revoked", 1.5),  # 吊销
    ("deregistered", 3.0),  # 注销
)
# Mean age (years) of the entities alive today: individual businesses churn fastest.
MEAN_AGE_YEARS = {ENTERPRISE: 7.0, INDIVIDUAL: 4.5, COOPERATIVE: 8.0}
EARLIEST_REGISTRATION = {
    ENTERPRISE: dt.date(1995, 1, 1),
    INDIVIDUAL: dt.date(1995, 1, 1),
    COOPERATIVE: dt.date(2007, 7, 1),  # 农民专业合作社法 in force 2007-07-01
}
LEGACY_NUMBER_BEFORE = dt.date(2015, 10, 1)  # 三证合一: the 15-digit registration number ends

CITY_BUREAU = "晋中市市场监督管理局"
PROVINCE_DRUG_AUTHORITY = "山西省药品监督管理局"

# ==============================================================================================================
# Codes: USCC, organisation code, legacy registration number, resident ID number
# ==============================================================================================================

_ALPHABET = identity.ALPHABET  # no I, O, S, V, Z
_BODY_SPACE = len(_ALPHABET) ** 6  # 31^6 = 887,503,681 organisation-code bodies
# An affine bijection of [0, 31^6): serial n → a scrambled but unique body. 31 is prime, so any multiplier not
# divisible by 31 is invertible; the USCCs look random and can never repeat, without a set of seen codes.
_BODY_MUL = 450_283_907
_BODY_ADD = 123_456_789
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_code_value(char: str) -> int:
    """GB 11714 character value: digits as themselves, A=10 … Z=35."""
    return int(char) if char.isdigit() else ord(char) - 55


_ORG_VALUE = {c: org_code_value(c) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def org_code_check(first8: str) -> str:
    """The GB 11714 check digit of an 8-character organisation code: 11 - Σ(wᵢ·cᵢ) mod 11, 10 → X, 11 → 0."""
    value = 11 - sum(w * _ORG_VALUE[c] for w, c in zip(_ORG_WEIGHTS, first8, strict=True)) % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def organisation_code(serial: int) -> str:
    """The 9-character organisation code of demo entity `serial`: "MA" + 6 scrambled characters + check digit."""
    if not 0 <= serial < _BODY_SPACE:
        raise ValueError(f"serial {serial} outside the organisation-code space")
    n = (serial * _BODY_MUL + _BODY_ADD) % _BODY_SPACE
    chars = []
    for _ in range(6):
        n, rem = divmod(n, len(_ALPHABET))
        chars.append(_ALPHABET[rem])
    first8 = "MA" + "".join(reversed(chars))
    return first8 + org_code_check(first8)


_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(_ALPHABET)}


def uscc_check_character(first17: str) -> str:
    """GB 32100 mod-31 check character. The same as identity.with_check_character (tests compare them on every
    generated code) without stdnum's input clean-up, which costs ~35 µs a code: 35 s at 10^6 entities."""
    total = sum(w * _USCC_VALUE[c] for w, c in zip(_USCC_WEIGHTS, first17, strict=True))
    return _ALPHABET[(31 - total % 31) % 31]


def demo_uscc(*, serial: int, entity_type: str, region_code: str) -> str:
    """A valid USCC: 9 + type digit + county code + organisation code + check character (GB 32100)."""
    first17 = "9" + identity.CODE_BY_TYPE[entity_type] + region_code + organisation_code(serial)
    return first17 + uscc_check_character(first17)


def mod11_10_check(digits: str) -> str:
    """ISO 7064 MOD 11,10 check digit, used by the legacy 15-digit registration number (GS15-2006)."""
    p = 10
    for d in digits:
        s = (p + int(d)) % 10 or 10
        p = (s * 2) % 11
    return str((11 - p) % 10)


def legacy_registration_number(*, serial: int, entity_type: str, region_code: str) -> str:
    """A 15-digit 注册号: registering office (6) + type digit (individual 6, else 0-3) + 7-digit sequence + check."""
    type_digit = "6" if entity_type == INDIVIDUAL else str(serial % 4)
    seq = (serial * 7_654_321 + 1_234_567) % 10_000_000  # bijective on serials below 10^7
    body = f"{region_code}{type_digit}{seq:07d}"
    return body + mod11_10_check(body)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id_number(*, region_code: str, birth: dt.date, sequence: int) -> str:
    """An 18-digit resident identity number (GB 11643) with its ISO 7064 MOD 11-2 check character."""
    body = f"{region_code}{birth:%Y%m%d}{sequence:03d}"
    total = sum(w * int(d) for w, d in zip(_ID_WEIGHTS, body, strict=True))
    return body + "10X98765432"[total % 11]


# ==============================================================================================================
# The population
# ==============================================================================================================


@dataclass(slots=True)
class EntitySpec:
    """Everything the demo knows about one market entity, ready to be written (no database ids yet)."""

    serial: int
    uscc: str
    entity_type: str
    name: str
    former_names: list[str]
    registration_number: str
    legal_representative: str
    legal_representative_id_number: str
    address: str
    region_code: str
    industry_code: str
    registered_capital: str | None  # 万元, 4 decimals
    registration_date: dt.date
    status: str
    key_areas: tuple[str, ...]
    contact_phone: str
    contact_email: str
    # (year, filed_on, on_time)
    annual_reports: list[tuple[int, dt.date, bool]] = field(default_factory=list)
    # (field, old_value, new_value, changed_on)
    changes: list[tuple[str, str, str, dt.date]] = field(default_factory=list)
    # (number, name, authority, valid_from, valid_until, status)
    licences: list[tuple[str, str, str, dt.date, dt.date | None, str]] = field(default_factory=list)
    # (title, awarded_by, awarded_on, valid_until)
    honours: list[tuple[str, str, dt.date, dt.date | None]] = field(default_factory=list)
    # (received_on, channel, summary, substantiated)
    complaints: list[tuple[dt.date, str, str, bool | None]] = field(default_factory=list)
    # (kind, text, made_on, status, verified_on)
    commitments: list[tuple[str, str, dt.date, str, dt.date | None]] = field(default_factory=list)

    @property
    def industry_division(self) -> str:
        return self.industry_code[1:3]


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def report_years(today: dt.date) -> tuple[int, ...]:
    """The report years the demo covers: the last two whose filing window (1 January – 30 June) has opened."""
    return (today.year - 2, today.year - 1)


# Earlier report years (before report_years), for the indicators that look back three report years (credit) and a
# registry of realistic size (~3·10^6 reports at 10^6 entities). They come from their own random stream, so the
# main stream, and everything drawn from it, is the same as without them.
HISTORY_REPORT_YEARS = 3


def history_report_years(today: dt.date) -> tuple[int, ...]:
    """The HISTORY_REPORT_YEARS report years before report_years(today), oldest first."""
    first = report_years(today)[0]
    return tuple(range(first - HISTORY_REPORT_YEARS, first))


def report_deadline(year: int) -> dt.date:
    return dt.date(year + 1, 6, 30)


def must_file(spec: EntitySpec, year: int) -> bool:
    """Whether the entity owes a report for `year`: registered by the year's end and not revoked/deregistered."""
    return spec.status in ("operating", "suspended") and spec.registration_date <= dt.date(year, 12, 31)


def _choice(rng: random.Random, items: Sequence[Any]) -> Any:
    """rng.choice without its rejection sampling: a bias of < 2^-40, at a third of the cost (10^6 entities)."""
    return items[int(rng.random() * len(items))]


def _randint(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low + 1))


class _Picker:
    """Weighted choice with precomputed cumulative weights (random.choices recomputes them on every call)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]) -> None:
        self.items = []
        self.cum = []
        total = 0.0
        for item, weight in pairs:
            total += weight
            self.items.append(item)
            self.cum.append(total)
        self.total = total

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


_TYPE = _Picker(TYPE_WEIGHTS)
_STATUS = _Picker(STATUS_WEIGHTS)
_SURNAME = _Picker(SURNAMES)
_COUNTY = {
    t: _Picker((code, weights[i]) for code, _n, weights in COUNTIES)
    for i, t in enumerate((ENTERPRISE, INDIVIDUAL, COOPERATIVE))
}
_INDUSTRY = {
    ENTERPRISE: _Picker((p, p.weight) for p in ENTERPRISE_INDUSTRIES),
    INDIVIDUAL: _Picker((p, p.weight) for p in INDIVIDUAL_INDUSTRIES),
    COOPERATIVE: _Picker((p, p.weight) for p in COOPERATIVE_INDUSTRIES),
}
_ENTERPRISE_PREFIX = _Picker((("county", 40), ("晋中市", 25), ("晋中", 15), ("city+county", 12), ("山西", 8)))
_ENTERPRISE_SUFFIX = _Picker((("有限公司", 70), ("有限责任公司", 25), ("股份有限公司", 5)))


class PopulationGenerator:
    """Streams `EntitySpec`s. One random stream, consumed in a fixed order: same inputs, same population.

    `serial_offset` shifts the serial numbers (and so the USCCs) when a second population is added with --force.
    """

    def __init__(self, *, entities: int, seed: int, today: dt.date, serial_offset: int = 0) -> None:
        self.entities = entities
        self.seed = seed
        self.today = today
        self.serial_offset = serial_offset
        self.rng = random.Random(f"jinzhong-demo:{seed}")
        self.years = report_years(today)
        self.history_years = history_report_years(today)
        self.history_rng = random.Random(f"jinzhong-demo:{seed}:report-history")
        # Per-authority licence counters; starting above any earlier population's counters keeps numbers unique.
        self._licence_seq: dict[str, int] = {}

    # --- small draws --------------------------------------------------------------------------------------
    def _zihao(self) -> str:
        rng = self.rng
        a = _choice(rng, ZIHAO_COMMON)
        b = _choice(rng, ZIHAO_COMMON)
        while b == a:
            b = _choice(rng, ZIHAO_COMMON)
        if rng.random() < 0.03:  # a rare name character: 喆 堃 赟 玥 …
            rare = _choice(rng, ZIHAO_RARE)
            a, b = (rare, b) if rng.random() < 0.5 else (a, rare)
        if rng.random() < 0.12:  # a three-character 字号
            return a + b + _choice(rng, ZIHAO_COMMON)
        return a + b

    def _person(self) -> tuple[str, bool]:
        rng = self.rng
        male = rng.random() < 0.68
        given = _choice(rng, GIVEN_MALE if male else GIVEN_FEMALE)
        return _SURNAME(rng) + given, male

    def _id_number(self, *, region_code: str, registered: dt.date, male: bool) -> str:
        rng = self.rng
        age = _randint(rng, 22, 62)
        birth = dt.date(registered.year - age, _randint(rng, 1, 12), _randint(rng, 1, 28))
        seq = int(rng.random() * 500) * 2 + (1 if male else 0)  # odd for men, even for women
        return resident_id_number(region_code=region_code, birth=birth, sequence=seq)

    def _village(self) -> str:
        rng = self.rng
        tail = _choice(rng, VILLAGE_TAILS)
        return _choice(rng, VILLAGE_HEADS) + tail + ("" if tail == "村" else "村")

    def _address(self, region_code: str, *, rural: bool, place: str = "") -> str:
        rng = self.rng
        county = COUNTY_NAMES[region_code]
        if rural:
            place = place or _choice(rng, TOWNS[region_code]) + self._village()
            return f"山西省晋中市{county}{place}{_randint(rng, 1, 300)}号"
        streets = STREETS.get(region_code)
        street = _choice(rng, streets) if streets and rng.random() < 0.6 else _choice(rng, STREETS_COMMON)
        return f"山西省晋中市{county}{street}{_randint(rng, 1, 899)}号"

    def _phone(self) -> str:
        rng = self.rng
        if rng.random() < 0.15:
            return f"0354-{_randint(rng, 2_000_000, 8_999_999)}"  # 晋中 landline
        return _choice(rng, MOBILE_PREFIXES) + f"{int(rng.random() * 100_000_000):08d}"

    def _registration_date(self, entity_type: str) -> dt.date:
        rng = self.rng
        earliest = EARLIEST_REGISTRATION[entity_type]
        span = (self.today - earliest).days
        mean_days = MEAN_AGE_YEARS[entity_type] * 365.25
        while True:
            age = int(rng.expovariate(1.0 / mean_days))
            if age <= span:
                return self.today - dt.timedelta(days=age)

    def _capital(self, entity_type: str) -> str | None:
        rng = self.rng
        if entity_type == INDIVIDUAL:
            if rng.random() >= 0.1:
                return None  # individual businesses mostly register no capital
            value = _choice(rng, (1, 2, 3, 5, 10, 20, 30, 50))
        else:
            median, sigma = (100.0, 1.4) if entity_type == ENTERPRISE else (50.0, 1.0)
            raw = min(max(rng.lognormvariate(math.log(median), sigma), 1.0), 500_000.0)
            # Registered capital is a round figure: one or two significant digits.
            digits = 1 if rng.random() < 0.7 else 2
            magnitude = 10 ** max(math.floor(math.log10(raw)) - digits + 1, 0)
            value = max(round(raw / magnitude) * magnitude, 1)
        return f"{value:.4f}"

    def _date_between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=_randint(self.rng, 0, (end - start).days))

    def _next_licence_seq(self, key: str) -> int:
        seq = self._licence_seq.get(key, self.serial_offset) + 1
        self._licence_seq[key] = seq
        return seq

    # --- names ----------------------------------------------------------------------------------------------
    def _enterprise_name(self, region_code: str, profile: IndustryProfile, zihao: str) -> str:
        rng = self.rng
        county = COUNTY_NAMES[region_code]
        prefix = {
            "county": county,
            "晋中市": "晋中市",
            "晋中": "晋中",
            "city+county": "晋中市" + county,
            "山西": "山西",
        }[_ENTERPRISE_PREFIX(rng)]
        word = _choice(rng, profile.words)
        suffix = _ENTERPRISE_SUFFIX(rng)
        if word == "大药房":
            suffix = "有限公司"
        return f"{prefix}{zihao}{word}{suffix}"

    def _individual_name(self, region_code: str, profile: IndustryProfile, zihao: str, owner: str) -> str:
        rng = self.rng
        county = COUNTY_NAMES[region_code]
        shop = _choice(rng, profile.words)
        pattern = rng.random()
        if pattern < 0.45:
            name = f"{county}{zihao}{shop}"
        elif pattern < 0.60:
            name = f"{county}{owner[0]}记{shop}"
        elif pattern < 0.80:
            name = f"{county}{_choice(rng, TOWNS[region_code])}{zihao}{shop}"
        else:
            name = f"{county}{owner}{shop}"
        return name

    def _cooperative_name(self, region_code: str, profile: IndustryProfile, zihao: str) -> tuple[str, str]:
        """The name and, when the name carries it, the town and village (where the cooperative is registered)."""
        rng = self.rng
        county = COUNTY_NAMES[region_code]
        place = "" if rng.random() < 0.5 else _choice(rng, TOWNS[region_code]) + self._village()
        head = place or zihao
        if profile.kind == "农机":
            return f"{county}{head}农机专业合作社", place
        return f"{county}{head}{_choice(rng, profile.words)}{profile.kind}专业合作社", place

    # --- the entity ---------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[EntitySpec]:
        for i in range(self.entities):
            yield self._entity(self.serial_offset + i)

    def _entity(self, serial: int) -> EntitySpec:
        rng = self.rng
        entity_type = _TYPE(rng)
        region_code = _COUNTY[entity_type](rng)
        profile: IndustryProfile = _INDUSTRY[entity_type](rng)
        registered = self._registration_date(entity_type)
        status = _STATUS(rng)
        if status == "suspended" and registered > self.today - dt.timedelta(days=60):
            status = "operating"  # a brand-new entity does not file a suspension
        owner, male = self._person()
        zihao = self._zihao()
        place = ""
        if entity_type == ENTERPRISE:
            name = self._enterprise_name(region_code, profile, zihao)
        elif entity_type == INDIVIDUAL:
            name = self._individual_name(region_code, profile, zihao, owner)
            # Since the 2022 regulation on individual businesses, new names carry the form of organisation.
            if registered >= dt.date(2022, 11, 1) and rng.random() < 0.6:
                name += "（个体工商户）"
        else:
            name, place = self._cooperative_name(region_code, profile, zihao)
        rural = entity_type == COOPERATIVE or (profile.code[0] == "A") or rng.random() < 0.25
        spec = EntitySpec(
            serial=serial,
            uscc=demo_uscc(serial=serial, entity_type=entity_type, region_code=region_code),
            entity_type=entity_type,
            name=name,
            former_names=[],
            registration_number=(
                legacy_registration_number(serial=serial, entity_type=entity_type, region_code=region_code)
                if registered < LEGACY_NUMBER_BEFORE
                else ""
            ),
            legal_representative=owner,
            legal_representative_id_number=self._id_number(region_code=region_code, registered=registered, male=male),
            address=self._address(region_code, rural=rural, place=place),
            region_code=region_code,
            industry_code=profile.code,
            registered_capital=self._capital(entity_type),
            registration_date=registered,
            status=status,
            key_areas=profile.key_areas,
            contact_phone=self._phone() if rng.random() < 0.92 else "",
            contact_email="",
        )
        if entity_type != INDIVIDUAL and rng.random() < 0.3:
            spec.contact_email = self._email(serial)
        self._annual_reports(spec)
        self._changes(spec)
        self._licences(spec, profile)
        self._positive_and_negative_records(spec)
        return spec

    def _email(self, serial: int) -> str:
        rng = self.rng
        domain = _choice(rng, MAIL_DOMAINS)
        if domain == "qq.com":
            return f"{_randint(rng, 10_000_000, 3_999_999_999)}@qq.com"
        letters = "".join(_choice(rng, "abcdefghjkmnpqrstwxyz") for _ in range(_randint(rng, 3, 6)))
        return f"{letters}{serial % 10_000}@{domain}"

    def _annual_reports(self, spec: EntitySpec) -> None:
        rng = self.rng
        rate = FILING_RATE[spec.entity_type]
        # A minority of entities is negligent (files rarely); the rest file almost always. The mix keeps the
        # overall rate at seed 003's while non-filing repeats across years, as it does in reality.
        negligent_share = min(0.9, (1 - rate) * 1.15)
        diligent_p = (rate - negligent_share * NEGLIGENT_FILE_PROBABILITY) / (1 - negligent_share)
        negligent = rng.random() < negligent_share
        probability = NEGLIGENT_FILE_PROBABILITY if negligent else diligent_p
        for year in self.history_years:  # the same habits, drawn from the history stream
            self._annual_report(spec, year, probability, self.history_rng)
        for year in self.years:
            self._annual_report(spec, year, probability, rng)

    def _annual_report(self, spec: EntitySpec, year: int, probability: float, rng: random.Random) -> None:
        if not must_file(spec, year):
            return
        if rng.random() >= probability:
            return
        deadline = report_deadline(year)
        if rng.random() >= LATE_SHARE:
            # On time: 1 January – 30 June, most of it in the last weeks before the deadline.
            window = (deadline - dt.date(year + 1, 1, 1)).days
            filed = dt.date(year + 1, 1, 1) + dt.timedelta(days=int(window * (1 - rng.random() ** 2)))
        else:
            late_until = min(report_deadline(year + 1), self.today)
            filed = deadline + dt.timedelta(days=1)
            if late_until > filed:
                filed += dt.timedelta(days=_randint(rng, 0, (late_until - filed).days))
        if filed > self.today:
            return  # not filed (yet)
        spec.annual_reports.append((year, filed, filed <= deadline))

    def _changes(self, spec: EntitySpec) -> None:
        rng = self.rng
        start = spec.registration_date + dt.timedelta(days=30)
        if start >= self.today:
            return
        changes: list[tuple[str, str, str, dt.date]] = []
        if rng.random() < 0.04:  # changed legal representative, sometimes several times
            current = spec.legal_representative
            dates = sorted(self._date_between(start, self.today) for _ in range(_choice(rng, (1, 1, 1, 2, 3))))
            olds = [self._person()[0] for _ in dates]
            for k, when in enumerate(dates):
                new = olds[k + 1] if k + 1 < len(olds) else current
                changes.append(("legal_representative", olds[k], new, when))
        if rng.random() < 0.03:  # moved
            dates = sorted(self._date_between(start, self.today) for _ in range(_choice(rng, (1, 1, 2))))
            olds = [self._address(spec.region_code, rural=rng.random() < 0.3) for _ in dates]
            for k, when in enumerate(dates):
                new = olds[k + 1] if k + 1 < len(olds) else spec.address
                changes.append(("address", olds[k], new, when))
        if rng.random() < 0.03:  # renamed (曾用名): the former name stays searchable
            former = self._former_name(spec)
            if former != spec.name:
                spec.former_names.append(former)
                changes.append(("name", former, spec.name, self._date_between(start, self.today)))
        if spec.registered_capital is not None and spec.entity_type == ENTERPRISE and rng.random() < 0.01:
            old = f"{max(float(spec.registered_capital) / _choice(rng, (2, 5, 10)), 1):.4f}"
            changes.append(("registered_capital", old, spec.registered_capital, self._date_between(start, self.today)))
        changes.sort(key=lambda c: c[3])
        spec.changes = changes

    def _former_name(self, spec: EntitySpec) -> str:
        rng = self.rng
        if spec.entity_type == ENTERPRISE and "有限" in spec.name and rng.random() < 0.5:
            # A change of form or of the administrative-division prefix.
            if spec.name.startswith("晋中市"):
                return "山西" + spec.name[3:]
            return spec.name.replace("有限公司", "有限责任公司") if spec.name.endswith("有限公司") else spec.name
        # A new 字号: replace the first occurrence of the first two characters after the county prefix.
        county = COUNTY_NAMES[spec.region_code]
        rest = spec.name.removeprefix("晋中市").removeprefix(county).removeprefix("晋中").removeprefix("山西")
        head = spec.name[: len(spec.name) - len(rest)]
        return head + self._zihao() + rest[2:]

    def _licences(self, spec: EntitySpec, profile: IndustryProfile) -> None:
        rng = self.rng
        county = COUNTY_NAMES[spec.region_code]
        county_bureau = f"晋中市{county}市场监督管理局"
        for area in spec.key_areas:
            if area == "food_production":
                # 食品生产许可证 SC + food category (3) + region (6) + sequence + check digit; issued by the city.
                category = {"13": "101", "14": "124", "15": "115"}.get(spec.industry_division, "101")
                seq = self._next_licence_seq("SC")
                body = f"{category}{spec.region_code}{seq:04d}"
                entry = ("SC" + body + mod11_10_check(body), "食品生产许可证", CITY_BUREAU, 5)
            elif area in ("food_distribution", "catering"):
                seq = self._next_licence_seq(county_bureau + "JY")
                body = f"{'2' if area == 'catering' else '1'}{spec.region_code}{seq:06d}"
                entry = ("JY" + body + mod11_10_check(body), "食品经营许可证", county_bureau, 5)
            elif area == "drugs":
                wholesale = spec.industry_code[:3] in ("F51", "C27")
                authority = PROVINCE_DRUG_AUTHORITY if wholesale else county_bureau
                seq = self._next_licence_seq(authority + "drug")
                prefix = "晋AA" if wholesale else "晋CB"
                title = "药品生产许可证" if spec.industry_code.startswith("C") else "药品经营许可证"
                entry = (f"{prefix}{spec.region_code[2:]}{seq:05d}", title, authority, 5)
            elif area == "special_equipment":
                seq = self._next_licence_seq("TS")
                entry = (f"TS{spec.region_code}{seq:05d}", "特种设备使用登记证", CITY_BUREAU, 0)
            elif area == "industrial_products":
                seq = self._next_licence_seq("XK")
                entry = (f"（晋）XK08-001-{seq:05d}", "全国工业产品生产许可证", "山西省市场监督管理局", 5)
            else:
                continue
            number, title, authority, years = entry
            if rng.random() < 0.15 and title == "食品经营许可证" and spec.entity_type == INDIVIDUAL:
                continue  # small sellers of prepackaged food only file a record (备案), no licence
            valid_from = self._date_between(spec.registration_date, spec.registration_date + dt.timedelta(days=60))
            valid_until: dt.date | None = None
            if years:
                # Renewed every `years` years up to today, unless the entity let it lapse (3 %).
                lapsed = rng.random() < 0.03
                while True:
                    valid_until = add_years(valid_from, years) - dt.timedelta(days=1)
                    if valid_until >= self.today or lapsed:
                        break
                    valid_from = valid_until + dt.timedelta(days=1)
            valid_from = min(valid_from, self.today)
            status = "valid"
            if spec.status == "revoked":
                status = "revoked"
            elif spec.status == "deregistered" or (valid_until is not None and valid_until < self.today):
                status = "expired"
            spec.licences.append((number, title, authority, valid_from, valid_until, status))

    def _positive_and_negative_records(self, spec: EntitySpec) -> None:
        rng = self.rng
        county = COUNTY_NAMES[spec.region_code]
        alive = spec.status in ("operating", "suspended")
        if alive and rng.random() < 0.01:
            title, by = _choice(rng, HONOURS)
            since = max(spec.registration_date, self.today - dt.timedelta(days=5 * 365))
            awarded = self._date_between(since, self.today)
            by = by.replace("{county}", county)
            spec.honours.append((title, by, awarded, awarded + dt.timedelta(days=3 * 365)))
        if rng.random() < 0.03:
            for _ in range(_choice(rng, (1, 1, 1, 2))):
                received = self._date_between(
                    max(spec.registration_date, self.today - dt.timedelta(days=3 * 365)), self.today
                )
                summary = _choice(rng, COMPLAINT_SUMMARIES.get(spec.industry_code[0], COMPLAINT_SUMMARIES["*"]))
                # Complaints of the last 30 days are still being handled: no finding yet.
                substantiated = None if (self.today - received).days < 30 else rng.random() < 0.4
                spec.complaints.append((received, _choice(rng, COMPLAINT_CHANNELS), summary, substantiated))
        if rng.random() < 0.05:
            kind, text = _choice(rng, COMMITMENTS)
            made = self._date_between(max(spec.registration_date, dt.date(2020, 1, 1)), self.today)
            roll = rng.random()
            if (self.today - made).days < 90 or roll < 0.30:
                status, verified = "pending", None
            elif roll < 0.96:
                status, verified = "kept", self._date_between(made, self.today)
            else:
                status, verified = "false", self._date_between(made, self.today)  # a few false commitments
            spec.commitments.append((kind, text, made, status, verified))


HONOURS: tuple[tuple[str, str], ...] = (
    ("守合同重信用企业", "山西省市场监督管理局"),
    ("诚信经营示范单位", "晋中市市场监督管理局"),
    ("放心消费示范单位", "晋中市市场监督管理局"),
    ("食品安全示范店", "{county}市场监督管理局"),
    ("消费者满意单位", "晋中市消费者协会"),
    ("企业信用合规建设示范单位", "晋中市市场监督管理局"),
)
COMPLAINT_CHANNELS = ("12315", "12315", "12315", "12345", "来信", "来访")
COMPLAINT_SUMMARIES: dict[str, tuple[str, ...]] = {
    "F": ("消费者反映购买的食品已过保质期", "反映商品标价与结算价格不一致", "反映销售假冒伪劣商品", "预付卡退费纠纷"),
    "H": ("反映餐饮店卫生状况差", "反映饭菜中有异物", "反映收费与菜单价格不符", "预付卡退费纠纷"),
    "O": ("反映维修服务收费不合理", "反映美容美发预付卡退费难", "反映服务质量差"),
    "E": ("反映装修工程质量问题", "反映拖欠工程款"),
    "K": ("反映物业服务不到位", "反映房屋交付与宣传不符"),
    "*": ("反映商品质量问题", "反映虚假宣传", "反映合同纠纷", "反映未按约定提供服务"),
}
COMMITMENTS: tuple[tuple[str, str], ...] = (
    ("住所（经营场所）信用承诺", "本单位承诺所登记的住所（经营场所）真实、合法、有效，可以正常联系。"),
    ("守法经营承诺", "本单位承诺严格遵守法律法规，诚信守法经营，自觉接受监督。"),
    ("证明事项告知承诺", "本单位承诺所提交的材料真实有效，如有不实，愿承担相应法律责任。"),
    ("食品安全承诺", "本单位承诺落实食品安全主体责任，保证所经营食品安全。"),
)


def generate_population(*, entities: int, seed: int, today: dt.date, serial_offset: int = 0) -> Iterator[EntitySpec]:
    """The population as a stream of `EntitySpec`; deterministic in (entities, seed, today, serial_offset)."""
    return iter(PopulationGenerator(entities=entities, seed=seed, today=today, serial_offset=serial_offset))


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# ==============================================================================================================
# Demo users
# ==============================================================================================================

# (username, role, region_code, superuser). The API client belongs to DEMO_DEPARTMENT, the check officer to
# DEMO_OFFICER_DEPARTMENT.
DEMO_USERS: tuple[tuple[str, str, str, bool], ...] = (
    ("admin", "city_regulator", "", True),
    ("city", "city_regulator", "", False),
    ("yuci", "county_regulator", "140702", False),
    ("taigu", "county_regulator", "140703", False),
    ("inspector", "inspector", "140702", False),
    ("reviewer", "credit_reviewer", "140702", False),
    ("clerk", "data_clerk", "140702", False),
    ("officer", "check_officer", "140702", False),
    ("api-health", "api_client", "", False),
)
DEMO_DEPARTMENT = ("health", "晋中市卫生健康委员会", "140700")
# The credit-check officer's department: government procurement checks its suppliers (issue 7).
DEMO_OFFICER_DEPARTMENT = ("yuci-finance", "晋中市榆次区财政局", "140702")
DEMO_PASSWORD = "jinzhong2026"
ROLE_LABELS_ZH = {
    "superuser": "系统管理员",
    "city_regulator": "市局监管人员",
    "county_regulator": "县局监管人员",
    "inspector": "执法检查人员",
    "credit_reviewer": "信用修复审核人员",
    "data_clerk": "数据录入员",
    "check_officer": "信用核查专员",
    "api_client": "部门接口账号",
    "enterprise": "企业用户",
}


# ==============================================================================================================
# Steps
# ==============================================================================================================


@dataclass
class SeedContext:
    """What every step gets: the parameters of the run, a logger and a summary the command prints."""

    entities: int
    seed: int
    today: dt.date
    password: str
    serial_offset: int = 0
    chunk_size: int = 10_000
    log: Callable[[str], None] = print
    summary: dict[str, Any] = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """An independent random stream per step, so adding a step never changes another step's data."""
        return random.Random(f"jinzhong-demo:{self.seed}:{name}")


StepFunction = Callable[[SeedContext], None]


@dataclass(frozen=True)
class DemoStep:
    name: str
    order: int
    run: StepFunction


_STEPS: dict[str, DemoStep] = {}


def demo_step(name: str, *, order: int) -> Callable[[StepFunction], StepFunction]:
    """Register a step of `seed_demo`. Steps run by ascending `order`; re-registering a name replaces it."""

    def register(function: StepFunction) -> StepFunction:
        _STEPS[name] = DemoStep(name=name, order=order, run=function)
        return function

    return register


def demo_steps() -> list[DemoStep]:
    """Every registered step, each app's `demo` module imported first (other domains add their steps there)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("demo")
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def run_steps(ctx: SeedContext, *, only: Sequence[str] | None = None) -> None:
    for step in demo_steps():
        if only is not None and step.name not in only:
            continue
        started = time.perf_counter()
        step.run(ctx)
        ctx.summary.setdefault("timings", {})[step.name] = round(time.perf_counter() - started, 2)


@demo_step("users", order=10)
def create_demo_users(ctx: SeedContext) -> None:
    """The demo accounts of every role (skipped when they exist) and the API client's token."""
    from django.db import transaction
    from rest_framework.authtoken.models import Token

    from core.models import Department, User
    from core.services import user_create

    created: list[str] = []
    with transaction.atomic():
        departments = {}
        for role, (code, name, region) in (("api_client", DEMO_DEPARTMENT), ("check_officer", DEMO_OFFICER_DEPARTMENT)):
            departments[role], _ = Department.objects.get_or_create(
                code=code, defaults={"name": name, "region_code": region}
            )
        for username, role, region_code, superuser in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                continue
            user = user_create(
                actor=None,
                username=username,
                role=role,
                password=ctx.password,
                region_code=region_code,
                department=departments.get(role),
            )
            if superuser:
                user.is_superuser = True
                user.is_staff = True
                user.save(update_fields=["is_superuser", "is_staff"])
            created.append(username)
        api_user = User.objects.get(username="api-health")
        token, _ = Token.objects.get_or_create(user=api_user)
    ctx.summary["users_created"] = created
    ctx.summary["api_token"] = token.key


# Other apps' demo accounts (e.g. the enterprise accounts of repair) add their login lines here.
_LOGIN_LINES: list[Callable[[], list[str]]] = []


def demo_login_lines(function: Callable[[], list[str]]) -> Callable[[], list[str]]:
    """Register a function that gives more login lines for `seed_demo --list-users` (another app's accounts)."""
    _LOGIN_LINES.append(function)
    return function


def demo_user_lines() -> list[str]:
    """'    <username>  <role>  <county or 全市>' for each demo account that exists."""
    from core.models import User
    from enterprises.models import Region

    regions = dict(Region.objects.values_list("code", "name"))
    users = {u.username: u for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS])}
    width = max(len(u[0]) for u in DEMO_USERS)
    lines = []
    for username, *_rest in DEMO_USERS:
        user = users.get(username)
        if user is None:
            continue
        label = ROLE_LABELS_ZH["superuser" if user.is_superuser else user.role]
        where = regions.get(user.region_code, user.region_code) if user.region_code else "全市"
        lines.append(f"    {username.ljust(width)}  {label}  {where}")
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("demo")
    for extra in _LOGIN_LINES:
        lines.extend(extra())
    return lines


# --- the registry population ----------------------------------------------------------------------------------

ENTERPRISE_COLUMNS = (
    "created_at", "updated_at", "uscc", "entity_type", "name", "former_names", "registration_number",
    "legal_representative", "legal_representative_id_number", "address", "region_id", "industry_id", "industry_code",
    "registered_capital", "registration_date", "status", "contact_phone", "contact_email", "search_text",
    "name_grams", "risk_class", "risk_classified_at",
)  # fmt: skip


def enterprise_row(spec: EntitySpec, now: Any) -> tuple[Any, ...]:
    """The COPY row of one entity (attributes ENTERPRISE_COLUMNS); search columns as Enterprise.save() fills them."""
    from enterprises.models import search_fields

    search_text, grams = search_fields(spec.name, spec.former_names)
    return (
        now, now, spec.uscc, spec.entity_type, spec.name,
        json.dumps(spec.former_names, ensure_ascii=False), spec.registration_number, spec.legal_representative,
        spec.legal_representative_id_number, spec.address, spec.region_code, spec.industry_division,
        spec.industry_code, spec.registered_capital, spec.registration_date.isoformat(), spec.status,
        spec.contact_phone, spec.contact_email, search_text, json.dumps(grams, ensure_ascii=False), "", None,
    )  # fmt: skip


def _ids_by_uscc(usccs: list[str]) -> dict[str, int]:
    from django.db import connection

    from enterprises.models import Enterprise

    if connection.vendor == "postgresql":
        table = Enterprise._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT uscc, id FROM {table} WHERE uscc = ANY(%s)", [usccs])
            return dict(cursor.fetchall())
    ids: dict[str, int] = {}
    for part in chunked(usccs, 500):  # SQLite: stay well below its bound-parameter limit
        ids.update(Enterprise.objects.filter(uscc__in=part).values_list("uscc", "id"))
    return ids


@dataclass(frozen=True)
class CopyTarget:
    """The COPY columns of one model: the attributes the demo writes, then every other concrete column filled
    with its model default, so a field that a later issue adds (with a default) does not break the load."""

    table: str
    columns: tuple[str, ...]
    tail: tuple[Any, ...]

    @classmethod
    def of(cls, model: type, given: Sequence[str], *, now: Any) -> CopyTarget:
        from django.db import models

        meta = model._meta
        rest = [
            f
            for f in meta.concrete_fields
            if f.attname not in given
            and not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField | models.SmallAutoField))
            and getattr(f, "db_default", models.NOT_PROVIDED) is models.NOT_PROVIDED  # the database fills those
        ]
        columns = tuple(meta.get_field(name).column for name in given) + tuple(f.column for f in rest)
        return cls(meta.db_table, columns, tuple(_default_value(f, now) for f in rest))

    def copy(self, rows: Iterable[tuple[Any, ...]]) -> int:
        from core.bulk import copy_rows

        tail = self.tail
        return copy_rows(self.table, self.columns, (row + tail for row in rows) if tail else rows)


def _default_value(field: Any, now: Any) -> Any:
    from django.db import models

    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    value = field.get_default()
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False, cls=field.encoder)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value if isinstance(value, bool | int | float | str) else str(value)


def copy_targets(now: Any) -> dict[str, CopyTarget]:
    """The tables of the registry population and the columns the generator fills, in row order."""
    from enterprises.models import (
        AnnualReport,
        Commitment,
        Complaint,
        Enterprise,
        Honour,
        Licence,
        RegistrationChange,
    )

    stamps = ("created_at", "updated_at", "enterprise_id")
    return {
        "enterprises": CopyTarget.of(Enterprise, ENTERPRISE_COLUMNS, now=now),
        "annual_reports": CopyTarget.of(AnnualReport, (*stamps, "year", "filed_on", "on_time"), now=now),
        "key_areas": CopyTarget.of(Enterprise.key_areas.through, ("enterprise_id", "keyarea_id"), now=now),
        "changes": CopyTarget.of(
            RegistrationChange, (*stamps, "field", "old_value", "new_value", "changed_on"), now=now
        ),
        "licences": CopyTarget.of(
            Licence, (*stamps, "number", "name", "authority", "valid_from", "valid_until", "status"), now=now
        ),
        "honours": CopyTarget.of(Honour, (*stamps, "title", "awarded_by", "awarded_on", "valid_until"), now=now),
        "complaints": CopyTarget.of(
            Complaint, (*stamps, "received_on", "channel", "summary", "substantiated"), now=now
        ),
        "commitments": CopyTarget.of(
            Commitment, (*stamps, "kind", "text", "made_on", "status", "verified_on"), now=now
        ),
    }


def _write_chunk(chunk: list[EntitySpec], now: Any, counts: dict[str, int], targets: dict[str, CopyTarget]) -> None:
    """One transaction: the entities, then (with their new ids) every row that hangs off them."""
    from django.db import transaction

    def iso(d: dt.date | None) -> str | None:
        return d.isoformat() if d is not None else None

    with transaction.atomic():
        counts["enterprises"] += targets["enterprises"].copy(enterprise_row(s, now) for s in chunk)
        ids = _ids_by_uscc([s.uscc for s in chunk])
        counts["annual_reports"] += targets["annual_reports"].copy(
            (now, now, ids[s.uscc], y, iso(f), ok) for s in chunk for y, f, ok in s.annual_reports
        )
        counts["key_areas"] += targets["key_areas"].copy((ids[s.uscc], area) for s in chunk for area in s.key_areas)
        counts["changes"] += targets["changes"].copy(
            (now, now, ids[s.uscc], f, o, n, iso(d)) for s in chunk for f, o, n, d in s.changes
        )
        counts["licences"] += targets["licences"].copy(
            (now, now, ids[s.uscc], num, name, auth, iso(vf), iso(vu), st)
            for s in chunk
            for num, name, auth, vf, vu, st in s.licences
        )
        counts["honours"] += targets["honours"].copy(
            (now, now, ids[s.uscc], t, by, iso(on), iso(until)) for s in chunk for t, by, on, until in s.honours
        )
        counts["complaints"] += targets["complaints"].copy(
            (now, now, ids[s.uscc], iso(r), ch, sm, sub) for s in chunk for r, ch, sm, sub in s.complaints
        )
        counts["commitments"] += targets["commitments"].copy(
            (now, now, ids[s.uscc], k, t, iso(m), st, iso(v)) for s in chunk for k, t, m, st, v in s.commitments
        )


def write_pipelined(chunks: Iterable[list[Any]], write: Callable[[list[Any]], None], *, depth: int = 2) -> None:
    """Call `write(chunk)` for each chunk in a second thread, with its own database connection, while this thread
    produces the next chunk: PostgreSQL ingests (COPY, index upkeep, deferred FK checks at commit) while Python
    generates, which the GIL allows because psycopg2 releases it while waiting for the server. Chunks are written
    in order by the one writer; the first error stops both sides and is raised here."""
    failure: list[BaseException] = []
    stop = threading.Event()
    pending: queue.Queue[list[Any] | None] = queue.Queue(maxsize=depth)

    def writer() -> None:
        from django.db import connection

        try:
            while (chunk := pending.get()) is not None:
                if not stop.is_set():
                    write(chunk)
        except BaseException as exc:
            failure.append(exc)
            stop.set()
            while pending.get() is not None:  # unblock the producer until it sends the end marker
                pass
        finally:
            connection.close()

    thread = threading.Thread(target=writer, name="seed-demo-writer", daemon=True)
    thread.start()
    try:
        for chunk in chunks:
            if stop.is_set():
                break
            pending.put(chunk)
    except BaseException:
        stop.set()
        raise
    finally:
        pending.put(None)
        thread.join()
    if failure:
        raise failure[0]


@demo_step("registry", order=100)
def load_population(ctx: SeedContext) -> None:
    """The market entities of 晋中市 with their reports, changes, licences, honours, complaints and commitments."""
    from django.db import connection, transaction
    from django.utils import timezone

    from core.audit import audit_log

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    counts = dict.fromkeys(
        ("enterprises", "annual_reports", "key_areas", "changes", "licences", "honours", "complaints", "commitments"),
        0,
    )
    population = generate_population(
        entities=ctx.entities, seed=ctx.seed, today=ctx.today, serial_offset=ctx.serial_offset
    )
    started = time.perf_counter()
    progress = {"next": 100_000}

    targets = copy_targets(now)

    def write(chunk: list[EntitySpec]) -> None:
        _write_chunk(chunk, now, counts, targets)
        if counts["enterprises"] >= progress["next"] or counts["enterprises"] == ctx.entities:
            elapsed = time.perf_counter() - started
            ctx.log(f"  {counts['enterprises']:>9,} / {ctx.entities:,} entities  ({elapsed:.0f} s)")
            progress["next"] += 100_000

    # A second connection cannot see an enclosing transaction (a test's, a caller's): pipeline only outside one.
    # SQLite allows one writer at a time anyway.
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        write_pipelined(chunked(population, ctx.chunk_size), write)
    else:
        for chunk in chunked(population, ctx.chunk_size):
            write(chunk)
    with transaction.atomic():
        audit_log(
            actor=None,
            action="demo.seed",
            object_type="enterprises.enterprise",
            object_id="*",
            object_repr=f"demo population of {ctx.entities} entities (seed {ctx.seed})",
            after={"entities": ctx.entities, "seed": ctx.seed, "today": ctx.today, **counts},
            source="command",
        )
    ctx.summary["counts"] = counts


@demo_step("analyze", order=10_000)
def analyze_tables(ctx: SeedContext) -> None:
    """Refresh the planner statistics after a bulk load (PostgreSQL; autovacuum would do it, but later)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
