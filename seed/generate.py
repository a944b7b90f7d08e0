"""Write the demo contest's seed files: the 2020 Dalian universities contest.

Deterministic (fixed random seed) and standard library only. The files it writes are
committed; the loader (judging/seed.py) reads them and never runs this script.

    python seed/generate.py            # rewrite the files in seed/
    python seed/generate.py OUT_DIR    # write them somewhere else (the tests compare)

Every invariant the demo relies on is asserted before anything is written.
See seed/README.md for which facts are real and which are illustrative.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEED = 20201024  # the (illustrative) day of the live final

# ----------------------------------------------------------------------------- structure

CONTEST = {
    "slug": "dalian-2020",
    "name": "甘井子科创中心杯·大连市高校第三届创新创业大赛暨甘井子区第二届科技创业大赛",
    "year": 2020,
    "organizers": ["大连理工大学", "甘井子区人民政府"],
    "status": "running",
    "created_at": "2020-06-01T01:00:00+00:00",
}
GROUPS = [("angel", "天使组"), ("growth", "成长组")]
GROUP_PREFIX = {"angel": "A", "growth": "G"}
FIELDS = ["物联网", "大数据", "新材料", "生物技术", "智能制造", "节能环保", "海洋科技"]

ANGEL_RUBRIC = [
    ("创意与技术", 30, "创意新颖，核心技术先进可行，具备自主知识产权或明确的研发路线。"),
    ("商业模式", 20, "目标客户、盈利方式和推广路径清晰，商业逻辑能够自洽。"),
    ("行业与市场", 15, "市场需求真实，规模与增长空间可信，对竞争格局有清楚认识。"),
    ("团队", 25, "成员背景互补、分工合理，具备把项目落地的执行力和投入度。"),
    ("社会价值", 10, "在带动就业、绿色发展或公共服务等方面具有积极的社会效益。"),
]
GROWTH_RUBRIC = [
    ("技术与产品", 30, "技术成熟度与先进性，产品性能、质量和知识产权保护情况。"),
    ("商业模式", 20, "盈利模式清晰，销售渠道和客户基础稳定，具备可复制性。"),
    ("行业与市场", 20, "行业前景与市场空间，市场占有率和竞争优势。"),
    ("团队", 15, "管理团队的经验、结构和稳定性，股权与激励机制是否合理。"),
    ("财务与融资", 15, "营收、利润与现金流状况，融资计划和资金使用安排是否合理。"),
]
PITCH = "路演与答辩"
PITCH_DESCRIPTION = "现场陈述清晰、重点突出，答辩回应准确，在规定时间内完成。"


def roadshow_rubric(rubric: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """Return the rubric with its last criterion replaced by 路演与答辩 (same maximum)."""
    _, maximum, _ = rubric[-1]
    return [*rubric[:-1], (PITCH, maximum, PITCH_DESCRIPTION)]


STAGES = [
    {
        "code": "prelim",
        "name": "初赛",
        "kind": "online",
        "state": "published",
        "judges_per_entry": 5,
        "opens_at": "2020-08-01T00:00:00+00:00",
        "advance": {"angel": 24, "growth": 20},
        "rubric": {"angel": ANGEL_RUBRIC, "growth": GROWTH_RUBRIC},
    },
    {
        "code": "semi",
        "name": "复赛",
        "kind": "online",
        "state": "published",
        "judges_per_entry": 7,
        "opens_at": "2020-09-01T00:00:00+00:00",
        "advance": {"angel": 12, "growth": 10},
        "rubric": {"angel": ANGEL_RUBRIC, "growth": GROWTH_RUBRIC},
    },
    {
        "code": "final",
        "name": "决赛",
        "kind": "roadshow",
        "state": "open",
        "judges_per_entry": 9,
        "opens_at": "2020-10-20T00:00:00+00:00",
        "advance": None,
        "rubric": {
            "angel": roadshow_rubric(ANGEL_RUBRIC),
            "growth": roadshow_rubric(GROWTH_RUBRIC),
        },
    },
]
STEP = Decimal("0.5")
RULE = {"rule": "trimmed", "trim": 1, "min_sheets_to_trim": 5}
PITCH_MINUTES, QA_MINUTES = 8, 7

AWARDS = {  # final stage; prize money is illustrative
    "angel": [
        ("一等奖", 1, "50000.00"),
        ("二等奖", 2, "30000.00"),
        ("三等奖", 3, "20000.00"),
        ("优秀奖", 6, "5000.00"),
    ],
    "growth": [
        ("一等奖", 1, "100000.00"),
        ("二等奖", 2, "50000.00"),
        ("三等奖", 3, "30000.00"),
        ("优秀奖", 4, "10000.00"),
    ],
}
SPECIAL_AWARDS = [("学生团队优秀奖", "student_team_reached:semi", "2000.00")]
SEMI_STUDENT_TEAMS = 20
ORGANIZER = {"username": "organizer", "display_name": "组委会"}
DEMO_PASSWORDS = {"organizer": "demo-organizer", "judge": "demo-judge"}
DEMO_JUDGE = "judge01"  # sits on both final panels and has scored nothing there yet
SECOND_DEMO_JUDGE = "judge02"  # on the angel final panel, everything submitted
ROADSHOW_DAY = datetime(2020, 10, 24, 0, 30, tzinfo=UTC)  # 08:30 in Dalian

# The two first prizes named in the contest report.
HTPO = "特种高性能复合热塑性弹性体HTPO产业化技术研究"
ZKHY = "中科海洋——构筑海洋生物入侵的第一道防线"
WINNERS = {"growth": HTPO, "angel": ZKHY}

# ----------------------------------------------------------------------------- entries

# field -> [(group, title, what it does)]; all but HTPO and ZKHY are illustrative.
# fmt: off
PROJECTS: dict[str, list[tuple[str, str, str]]] = {
    "物联网": [
        ("angel", "基于LoRa的独居老人居家安全监测系统",
         "通过门磁、红外和用电数据感知老人日常活动规律，出现异常时自动通知社区网格员和家属。"),
        ("angel", "“慧停”校园共享单车规范停放管理平台",
         "利用蓝牙道钉和电子围栏引导校园单车入位停放，缓解车辆乱停乱放和堆积问题。"),
        ("angel", "农业大棚环境无线监测与卷帘自动控制器",
         "低成本传感节点配合手机小程序，实现大棚温湿度远程监测和卷帘、风口自动开合。"),
        ("angel", "冷链药品运输全程温度追溯标签",
         "一次性低功耗温度记录标签随药品包装流转，扫码即可读取运输全程温度曲线。"),
        ("angel", "地下停车场UWB精准定位与反向寻车系统",
         "以UWB定位和车位状态识别帮助车主在大型地下停车场快速找到车辆。"),
        ("angel", "渔船防碰撞与落水人员自动报警终端",
         "集成北斗定位与落水感应，船员落水后数秒内向周边船只和岸基平台发出警报。"),
        ("angel", "小微餐饮燃气泄漏监测与自动切断服务",
         "无线燃气探测器与切断阀联动，按月收取服务费，降低小商户的安装门槛。"),
        ("angel", "儿童哮喘发作预警可穿戴手环",
         "连续监测呼吸频率与环境过敏原指数，在哮喘发作前提醒家长及时干预。"),
        ("angel", "智能分类垃圾箱及居民积分回收系统",
         "满溢检测与称重识别结合积分激励，提高小区居民垃圾分类投放准确率。"),
        ("angel", "桥梁结构健康无线监测节点",
         "自供能振动与应变传感节点长期监测中小桥梁结构状态，替代人工定期巡检。"),
        ("growth", "港口冷藏集装箱远程监控系统产业化",
         "为港口堆场冷藏箱提供温度、电源和故障的集中监控与告警，减少货损和人工巡箱。"),
        ("growth", "工业设备预测性维护边缘计算网关",
         "在产线侧采集振动和电流信号并实时分析，提前发现轴承、电机等关键部件故障。"),
        ("growth", "电梯运行状态远程监测与按需维保平台",
         "加装振动、门机和平层传感器，依据运行数据安排维保，减少困人和停梯故障。"),
        ("growth", "智慧供热二次管网平衡调控系统",
         "通过楼栋阀门与室温采集的闭环调控解决管网冷热不均问题，降低单位面积热耗。"),
        ("growth", "NB-IoT智能水表及供水管网漏损分析平台",
         "智能水表数据与管网模型结合定位漏损区域，帮助水务企业降低产销差。"),
        ("growth", "规模化养殖场环境监控与精准饲喂系统",
         "实时监控猪舍温湿度、氨气浓度和采食量，并按生长阶段自动调整饲喂量。"),
        ("growth", "危化品运输车辆主动安全监管终端",
         "融合驾驶行为识别、罐体状态监测和电子运单，实现危化品运输全过程监管。"),
        ("growth", "仓储物流超高频RFID无感盘点系统",
         "超高频RFID标签配合通道式读写设备，实现出入库和在库货物的无感盘点。"),
    ],
    "大数据": [
        ("angel", "高校毕业生就业质量画像与专业预警工具",
         "汇集毕业去向和薪资数据，为高校专业设置和招生计划调整提供量化依据。"),
        ("angel", "“研途”考研择校智能推荐平台",
         "基于历年招生与录取数据为考生匹配院校和专业，并给出录取概率评估。"),
        ("angel", "城市公交客流预测与线路优化模型",
         "利用刷卡和车辆定位数据预测站点客流，为线路和发车间隔调整提供方案。"),
        ("angel", "海洋渔业资源时空分布预测系统",
         "融合卫星遥感海温、叶绿素和历史渔获数据，预测重点渔场的资源分布。"),
        ("angel", "基于电子病历的慢性病风险筛查模型",
         "挖掘基层医疗机构的电子病历，识别糖尿病、高血压等慢病高危人群。"),
        ("angel", "乡村文旅客流分析与精准营销平台",
         "汇聚景区票务和手机信令数据，为乡村旅游目的地提供客源分析与营销投放建议。"),
        ("angel", "老旧小区加装电梯需求测算与决策支持平台",
         "结合住户年龄结构、楼栋条件和意愿调查，测算加装电梯的优先次序与费用分摊。"),
        ("angel", "方言语音数据集建设与标注服务",
         "采集整理东北及胶辽官话方言语料，为语音识别企业提供高质量训练数据。"),
        ("angel", "跨境电商智能选品与定价分析工具",
         "分析海外平台的销量和评价数据，帮助中小卖家发现潜力商品并给出定价建议。"),
        ("angel", "中小微企业信用画像与融资撮合平台",
         "整合纳税、用电和经营数据形成企业信用画像，对接银行开展信用贷款。"),
        ("growth", "制造业供应链风险预警大数据平台",
         "监测供应商经营、物流和舆情数据，提前识别断供和延期交付风险。"),
        ("growth", "港航物流数据交换与运力撮合平台",
         "打通船公司、货代和车队的数据接口，实现集装箱集疏运运力在线撮合。"),
        ("growth", "医保基金智能审核与欺诈识别系统",
         "以规则引擎和机器学习识别不合理诊疗和骗保行为，辅助医保部门审核。"),
        ("growth", "企业能耗监测与碳排放核算平台",
         "采集企业水、电、气等能耗数据，自动生成碳排放核算报告与节能建议。"),
        ("growth", "科技成果转化知识图谱对接平台",
         "构建专利、论文与企业需求的知识图谱，精准推荐高校成果与企业技术需求对接。"),
        ("growth", "零售门店客流热力与智能选址服务",
         "利用客流热力和商圈数据评估候选店址，为连锁品牌提供开店选址决策。"),
        ("growth", "城市道路病害智能识别与养护决策系统",
         "利用车载摄像头自动识别路面裂缝和坑槽，生成养护优先级与预算方案。"),
    ],
    "新材料": [
        ("angel", "可降解聚乳酸发泡餐盒材料",
         "通过改性和超临界发泡工艺提升聚乳酸的耐热性和韧性，替代一次性塑料餐盒。"),
        ("angel", "柔性钙钛矿太阳能电池阻隔封装膜",
         "研制高阻隔柔性封装薄膜，延长柔性钙钛矿电池在湿热环境下的使用寿命。"),
        ("angel", "石墨烯改性水性重防腐涂料",
         "利用石墨烯片层的阻隔效应提升水性涂料防腐性能，减少溶剂型涂料的VOCs排放。"),
        ("angel", "高导热氮化硼复合散热膜",
         "以氮化硼纳米片构建导热网络，为5G终端和功率器件提供绝缘高导热材料。"),
        ("angel", "MOF基室内甲醛常温吸附分解模块",
         "用金属有机框架材料在常温下吸附并催化分解甲醛，用于新装修房屋的净化。"),
        ("angel", "钠离子电池生物质硬碳负极材料",
         "以果壳等农林废弃物为原料制备低成本硬碳负极，面向储能用钠离子电池。"),
        ("angel", "仿生超疏水防覆冰涂层",
         "模仿荷叶表面微纳结构制备超疏水涂层，减少输电线路和风机叶片覆冰。"),
        ("angel", "全生物降解农用地膜",
         "以PBAT与淀粉共混制备可控降解地膜，解决农田残膜污染问题。"),
        ("angel", "自修复导电水凝胶柔性传感材料",
         "具有自修复能力的导电水凝胶，可用于可穿戴应变传感器和电子皮肤。"),
        ("growth", HTPO,
         "开发耐高低温、耐老化的复合热塑性弹性体HTPO，并推进规模化制备工艺与产业化应用。"),
        ("growth", "碳纤维复合材料汽车轻量化部件",
         "采用快速模压工艺生产碳纤维复合材料车身部件，在同等强度下显著减重。"),
        ("growth", "耐高温聚芳醚砜树脂规模化制备",
         "突破聚芳醚砜树脂连续化聚合与提纯工艺，替代进口特种工程塑料。"),
        ("growth", "高纯氧化铝陶瓷基板产业化",
         "面向功率电子封装的高纯氧化铝陶瓷基板，流延成型和烧结工艺已稳定量产。"),
        ("growth", "船用重防腐涂料国产化",
         "开发适用于船体和海工平台的重防腐涂料体系，性能对标进口产品。"),
        ("growth", "锂电池隔膜陶瓷涂覆材料",
         "以高纯勃姆石涂覆材料提高锂电池隔膜的耐热性和安全性。"),
        ("growth", "超高分子量聚乙烯纤维防切割手套",
         "以自主纺丝的超高分子量聚乙烯纤维编织防切割手套，用于机械和食品加工行业。"),
        ("growth", "LED用稀土掺杂荧光粉",
         "开发高显色、高热稳定性的稀土掺杂荧光粉，用于照明和显示用LED封装。"),
        ("growth", "3D打印用球形钛合金粉末制备技术",
         "采用等离子旋转电极法制备低氧含量球形钛合金粉末，供航空和医疗增材制造使用。"),
    ],
    "生物技术": [
        ("angel", "海参肠道益生菌制剂开发",
         "筛选海参肠道优势益生菌株并开发饲料添加剂，提高海参养殖成活率。"),
        ("angel", "基于CRISPR的非洲猪瘟现场快速检测试纸",
         "将CRISPR检测与侧流层析试纸结合，养殖场现场半小时内完成病毒检测。"),
        ("angel", "口腔癌唾液早筛试剂盒",
         "检测唾液中的肿瘤标志物组合，为口腔癌高危人群提供无创早期筛查。"),
        ("angel", "褐藻岩藻多糖抗炎功能食品",
         "从海带、裙带菜中提取岩藻多糖，开发具有辅助抗炎作用的功能食品。"),
        ("angel", "果蔬用植物源杀虫剂研发",
         "从本地植物中提取杀虫活性成分，开发低残留的果蔬用植物源农药。"),
        ("angel", "肿瘤类器官药物敏感性检测服务",
         "用患者肿瘤组织培养类器官进行药敏测试，辅助临床医生选择化疗方案。"),
        ("angel", "宠物肠道菌群检测与个性化营养方案",
         "通过粪便菌群测序评估宠物肠道健康，提供个性化的饮食与益生菌建议。"),
        ("angel", "耐盐碱水稻分子标记辅助育种",
         "利用分子标记辅助选择，培育适合辽宁沿海盐碱地种植的水稻新品系。"),
        ("angel", "人工智能辅助抗菌肽设计",
         "以深度学习模型设计并筛选新型抗菌肽，应对耐药菌感染问题。"),
        ("angel", "黄粉虫蛋白水产饲料",
         "利用黄粉虫转化农业副产物生产昆虫蛋白，替代水产饲料中的部分鱼粉。"),
        ("growth", "重组胶原蛋白医用敷料产业化",
         "以基因工程菌表达人源化重组胶原蛋白，开发用于创面修复的医用敷料。"),
        ("growth", "动物疫苗耐热冻干保护剂",
         "耐热冻干保护剂使活疫苗可在常温下运输保存，降低冷链成本。"),
        ("growth", "微生物发酵法生产天然虾青素",
         "以雨生红球藻高密度培养生产天然虾青素，用于保健食品和水产饲料。"),
        ("growth", "遗传性肿瘤基因检测服务平台",
         "提供遗传性肿瘤相关基因的检测与遗传咨询服务，已与多家医院开展合作。"),
        ("growth", "化学发光体外诊断试剂及仪器",
         "自主研发化学发光检测平台和配套试剂，覆盖甲状腺功能、肿瘤标志物等项目。"),
        ("growth", "海洋微藻DHA藻油规模化生产",
         "利用裂殖壶菌发酵生产DHA藻油，用于婴幼儿配方食品和膳食补充剂。"),
        ("growth", "道地中药材种苗组培快繁",
         "建立中药材组培快繁体系，为种植基地提供脱毒、优质的种苗。"),
    ],
    "智能制造": [
        ("angel", "焊缝缺陷视觉检测爬行机器人",
         "爬行机器人搭载线结构光和深度学习模型，自动检测储罐与管道焊缝缺陷。"),
        ("angel", "搬运作业被动式腰部助力外骨骼",
         "无动力弹性储能外骨骼减轻搬运工人腰部负荷，成本仅为电动外骨骼的一小部分。"),
        ("angel", "基于数字孪生的数控机床故障诊断系统",
         "建立机床数字孪生模型，结合运行数据诊断主轴和进给系统故障。"),
        ("angel", "船体外壁除锈爬壁机器人",
         "磁吸附爬壁机器人搭载超高压水射流，替代坞修期间的人工除锈作业。"),
        ("angel", "果蔬分拣柔性抓取机械手",
         "气动柔性手指配合视觉定位，实现草莓、樱桃等易损果蔬的无损分拣。"),
        ("angel", "足底扫描3D打印定制鞋垫",
         "通过手机拍照重建足底三维模型，按需3D打印矫形鞋垫。"),
        ("angel", "服装缝制智能吊挂与排产系统",
         "以智能吊挂线和排产算法减少在制品积压，加快小批量服装订单交付。"),
        ("angel", "轴承套圈表面缺陷AI检测设备",
         "基于多角度成像和卷积神经网络，检测轴承套圈的磕碰、划伤等缺陷。"),
        ("angel", "协作机器人零代码示教编程软件",
         "通过拖拽示教和图形化流程编辑，让没有编程基础的工人也能部署协作机器人。"),
        ("growth", "数控机床热误差实时补偿系统",
         "实时监测机床温度场并补偿热变形误差，提高精密零件的加工一致性。"),
        ("growth", "工业机器人RV精密减速器",
         "自主设计RV减速器齿形与加工工艺，精度和寿命满足国产工业机器人需求。"),
        ("growth", "汽车零部件柔性装配生产线",
         "模块化工装和视觉引导机器人实现多品种汽车零部件共线装配。"),
        ("growth", "智能仓储AGV集群调度系统",
         "面向电商和制造仓储的AGV集群调度算法，支持上百台AGV协同作业。"),
        ("growth", "大型铸锻件激光熔覆再制造",
         "采用激光熔覆技术修复大型轧辊和轴类零件，延长关键部件使用寿命。"),
        ("growth", "长输管道全位置自动焊接装备",
         "适用于油气长输管道的全位置自动焊机，焊接效率和一次合格率高于人工。"),
        ("growth", "阀门行业智能制造执行系统",
         "面向阀门生产企业的MES系统，实现订单、工艺和质检数据的全流程追溯。"),
    ],
    "节能环保": [
        ("angel", "餐厨垃圾就地微生物减量处理设备",
         "在食堂和餐饮店就地利用复合菌剂分解餐厨垃圾，一天内减量九成以上。"),
        ("angel", "光伏板无水自动清扫机器人",
         "沿光伏阵列自主行走的无水清扫机器人，适用于北方缺水地区的电站。"),
        ("angel", "建筑垃圾再生骨料透水砖",
         "以建筑垃圾再生骨料制备高强度透水砖，用于海绵城市建设。"),
        ("angel", "校园浴室节水智能控制系统",
         "按人计时计量并自动关阀，减少高校公共浴室的长流水浪费。"),
        ("angel", "废旧锂电池正极材料湿法回收",
         "以低酸耗湿法工艺回收废旧锂电池中的锂、钴、镍等有价金属。"),
        ("angel", "秸秆生物质成型燃料与专用炉具",
         "将玉米秸秆压制成型燃料并配套低排放炉具，替代农村散煤取暖。"),
        ("angel", "小型喷涂车间VOCs低温等离子治理装置",
         "面向汽修和家具喷涂小车间的一体化VOCs治理装置，占地小、运行费用低。"),
        ("angel", "城市雨水花园生态净化模块",
         "以模块化填料和植物组合净化初期雨水径流，便于在老旧小区改造中施工。"),
        ("growth", "工业余热有机朗肯循环发电机组",
         "利用低温工业余热驱动有机朗肯循环发电，投资回收期约四年。"),
        ("growth", "高盐废水蒸发结晶零排放工艺",
         "针对化工高盐废水的分盐结晶工艺，实现废水零排放和盐的资源化。"),
        ("growth", "燃煤锅炉烟气超低排放改造",
         "对中小型燃煤锅炉进行脱硫、脱硝、除尘一体化改造，达到超低排放标准。"),
        ("growth", "市政污泥低温干化成套装备",
         "以热泵低温干化将市政污泥含水率降至30%以下，能耗低于传统热干化。"),
        ("growth", "北方农村空气源热泵清洁供暖",
         "面向北方农村的超低温空气源热泵，在零下25℃环境下仍能稳定制热。"),
        ("growth", "磁悬浮离心鼓风机节能改造",
         "以磁悬浮鼓风机替换污水处理厂的罗茨风机，曝气系统节电30%以上。"),
        ("growth", "含油污泥热解资源化处理",
         "采用连续热解工艺处理油田和炼化含油污泥，回收油品并实现无害化。"),
    ],
    "海洋科技": [
        ("angel", ZKHY,
         "面向港口水域和船舶压载水，快速检测并预警外来海洋生物，从源头阻断入侵物种扩散。"),
        ("angel", "海上风电桩基冲刷在线监测系统",
         "在风机桩基周围布设声呐和压力传感器，实时监测海床冲刷深度。"),
        ("angel", "近海养殖网箱水下巡检机器人",
         "小型水下机器人定期巡检网衣破损和鱼群状态，减少潜水员作业。"),
        ("angel", "赤潮早期预警智能浮标",
         "搭载叶绿素和溶解氧传感器的浮标网络，结合预测模型提前预警赤潮。"),
        ("angel", "海水微塑料快速检测方法与设备",
         "基于荧光染色与图像识别，快速计数海水中的微塑料颗粒。"),
        ("angel", "海带加工副产物高值化利用",
         "从海带加工废液中提取褐藻胶和甘露醇，提升海带加工的附加值。"),
        ("angel", "海参育苗水质智能调控系统",
         "实时监测育苗池水温、盐度和溶解氧并自动调控，提高海参苗出苗率。"),
        ("angel", "牡蛎礁海岸带生态修复技术",
         "以人工牡蛎礁修复退化海岸带，兼顾护岸消浪与生物多样性。"),
        ("growth", "船舶尾气脱硫洗涤塔",
         "开环、闭环可切换的船舶尾气脱硫洗涤塔，满足国际海事组织限硫令要求。"),
        ("growth", "深远海养殖工船关键装备",
         "研发养殖工船的循环水、投喂和起捕装备，推动养殖从近岸走向深远海。"),
        ("growth", "水下声学定位与通信模块",
         "小型化水下声学定位与通信模块，可用于水下机器人和海洋观测设备。"),
        ("growth", "海水淡化反渗透膜组件",
         "自主研发耐污染反渗透膜元件，降低海岛和沿海工业园区的淡化成本。"),
        ("growth", "船用LNG燃料供气系统",
         "为内河和近海LNG动力船提供燃料储存与供气成套系统。"),
        ("growth", "海洋牧场立体监测与管理平台",
         "集成水下摄像、水质监测和投喂记录，为海洋牧场提供数字化管理。"),
        ("growth", "海工装备牺牲阳极阴极保护系统",
         "为海上平台和码头钢结构提供高效铝合金牺牲阳极及监测系统。"),
    ],
}
# fmt: on

DUT = "大连理工大学"
DMU = "大连海事大学"
DICP = "中国科学院大连化学物理研究所"
INSTITUTES = {DICP}  # no student teams here
# field -> {university or institute: weight}; who plausibly works on what.
CAMPUS_WEIGHTS: dict[str, dict[str, float]] = {
    "物联网": {
        DUT: 3,
        DMU: 2,
        "大连交通大学": 2,
        "大连大学": 1,
        "大连民族大学": 1,
        "东北财经大学": 0.5,
    },
    "大数据": {
        "东北财经大学": 3,
        DUT: 2,
        "辽宁师范大学": 1.5,
        DMU: 1,
        "大连民族大学": 1,
        "大连大学": 1,
    },
    "新材料": {DUT: 3, DICP: 2, "大连工业大学": 2, "大连交通大学": 1, DMU: 0.5},
    "生物技术": {
        "大连医科大学": 3,
        DUT: 1.5,
        "大连工业大学": 1.5,
        "大连海洋大学": 1.5,
        DICP: 1,
        "辽宁师范大学": 1,
        "大连大学": 1,
    },
    "智能制造": {DUT: 3, "大连交通大学": 2.5, DMU: 1, "大连工业大学": 1, "大连大学": 1},
    "节能环保": {DUT: 2, DICP: 2, DMU: 1, "大连交通大学": 1, "大连工业大学": 1, "大连民族大学": 1},
    "海洋科技": {DMU: 2.5, "大连海洋大学": 3, DUT: 2, "辽宁师范大学": 0.5},
}
UNIVERSITIES = sorted({n for w in CAMPUS_WEIGHTS.values() for n in w} - INSTITUTES)
CAMPUS_SHARE = {"angel": 0.62, "growth": 0.3}  # the rest are (illustrative) companies
STUDENT_TEAMS = {"angel": 26, "growth": 10}
SEMI_STUDENTS = {"angel": 14, "growth": 6}

# Company brands, one per company so no two look related.
# fmt: off
BRANDS = [
    "蓝岸", "远帆", "博川", "瀚宇", "拓新", "凌峰", "云汐", "泓达", "天衡", "聚源", "昊宸", "沐禾",
    "澄海", "砺行", "知微", "锦程", "睿途", "北渚", "青屿", "东澜", "弘毅", "涵光", "海珀", "星槎",
    "鸿途", "嘉澍", "朗源", "谦和", "晟华", "若水", "清岚", "恒远", "沃野", "帆影", "溪川", "卓衡",
    "麦田", "山海", "岚图", "辰汐", "宏屹", "鲸帆", "望潮", "金汐", "黎明", "砥川", "润川", "舜禾",
    "承泽", "拾光", "新渡", "同舟", "汇川", "观澜", "栖霞", "长鲸", "青禾", "明湾", "泊岸", "海棠",
    "银帆", "骏驰", "岩芯", "雪松", "乾元", "长澜", "知远", "蔚岚", "驰远", "晨曦", "海韵", "嘉禾",
    "松岭", "峻石", "澜舟",
]
# fmt: on
TRADES = {
    "物联网": ["智联", "物联", "感知"],
    "大数据": ["数据", "数智", "信息"],
    "新材料": ["新材料", "材料", "高分子"],
    "生物技术": ["生物", "生物医药", "基因"],
    "智能制造": ["智能装备", "机器人", "自动化"],
    "节能环保": ["环保", "节能", "环境"],
    "海洋科技": ["海洋", "海洋工程", "船舶"],
}
COMPANY_SUFFIXES = ["科技有限公司", "科技有限公司", "技术有限公司", "科技发展有限公司"]

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢"
    "蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚浩宇轩然博文思雨欣怡子涵嘉晨一诺佳琪鑫俊峰"
    "昊天泽晓梦婷雪凯鹏宁昕悦阳彤璐哲睿航铭煜瑞"
)

ANGEL_PROGRESS = [
    "团队已完成原理样机，申请发明专利{n}项。",
    "项目已完成实验室验证，计划2021年开展中试。",
    "已在{n}家单位开展试用，用户反馈良好。",
    "核心算法已完成开发，正在与合作企业对接应用场景。",
    "已注册公司，正在寻求天使轮融资{m}万元。",
    "样品已送第三方机构检测，主要指标达到设计要求。",
]
STUDENT_PROGRESS = [
    "团队由{n}名在读硕士、博士研究生组成，导师团队提供技术指导。",
    "项目获校级大学生创新创业训练计划资助，已完成样机。",
]
GROWTH_PROGRESS = [
    "公司成立于{y}年，2019年营业收入约{r}万元。",
    "产品已通过第三方检测认证，累计服务客户{c}家。",
    "已完成Pre-A轮融资{m}万元，拥有授权发明专利{n}项。",
    "已建成中试线，正在规划规模化生产。",
    "项目已在{n}个城市落地应用，2019年合同额约{r}万元。",
]

COMMENTS = {
    "high": [
        "技术路线清晰，市场验证充分，建议重点关注。",
        "团队执行力强，已有订单支撑。",
        "创新性突出，产业化前景好。",
        "商业模式成熟，财务数据可信。",
        "整体完成度高，建议推荐晋级。",
    ],
    "mid": [
        "创新点明确，商业模式有待细化。",
        "技术可行，市场规模测算偏乐观。",
        "团队结构可再完善，建议补充市场人员。",
        "产品有特色，但竞争对手分析不足。",
        "建议进一步明确目标客户与盈利方式。",
    ],
    "low": [
        "项目尚处于概念阶段，可行性论证不足。",
        "核心技术来源不清晰，知识产权需明确。",
        "市场需求论证不充分。",
        "商业计划书内容较简略。",
    ],
}

# ----------------------------------------------------------------------------- judges

# (name, title, organization, expertise); all illustrative.
JUDGES = [
    ("张文博", "教授", DMU, ["物联网", "智能制造"]),
    ("李静怡", "投资总监", "大连渤澜创业投资有限公司", ["大数据", "物联网"]),
    ("王建国", "研究员", DICP, ["新材料", "节能环保"]),
    ("刘晓明", "教授", DUT, ["新材料", "智能制造"]),
    ("陈雪梅", "教授", "大连医科大学", ["生物技术"]),
    ("赵海涛", "教授级高级工程师", "大连海晟重工装备有限公司", ["智能制造", "海洋科技"]),
    ("孙丽华", "合伙人", "辽宁启航创业投资合伙企业（有限合伙）", ["生物技术", "大数据"]),
    ("周志强", "教授", DUT, ["大数据", "物联网"]),
    ("吴敏", "研究员", "大连海洋大学", ["海洋科技", "生物技术"]),
    ("郑凯", "投资总监", "大连鲸湾资本管理有限公司", ["新材料", "节能环保"]),
    ("冯晓燕", "教授", "东北财经大学", ["大数据"]),
    ("何振宇", "高级工程师", "大连云帆信息技术有限公司", ["物联网", "大数据"]),
    ("杨春雨", "教授", "大连交通大学", ["智能制造", "物联网"]),
    ("马骏", "合伙人", "大连沧海天使投资中心（有限合伙）", ["海洋科技", "智能制造", "新材料"]),
    ("朱红", "主任", "大连北港科技企业孵化器有限公司", ["节能环保", "大数据"]),
    ("胡振华", "教授", "大连工业大学", ["新材料", "生物技术"]),
    ("林海鹰", "研究员", DICP, ["节能环保", "生物技术"]),
    ("高远", "投资总监", "大连东岸科技金融服务有限公司", ["物联网", "智能制造"]),
    ("罗晓梅", "教授", "辽宁师范大学", ["大数据", "生物技术"]),
    ("梁国栋", "高级工程师", "大连鹏程环境工程有限公司", ["节能环保"]),
    ("宋雅琴", "合伙人", "大连知行创业投资有限公司", ["生物技术", "新材料"]),
    ("谢永刚", "教授", DMU, ["海洋科技", "节能环保"]),
    ("韩冰", "总经理", "大连甘泉众创空间管理有限公司", ["大数据", "物联网", "智能制造"]),
    ("唐振东", "教授", DUT, ["海洋科技", "智能制造"]),
    ("董丽娜", "高级工程师", "大连澜芯电子科技有限公司", ["物联网"]),
    ("曹志远", "投资总监", "大连海岸线创新投资有限公司", ["新材料", "智能制造"]),
    ("邓晓峰", "教授", "大连大学", ["生物技术", "大数据"]),
    ("许文静", "教授", "大连民族大学", ["大数据", "智能制造"]),
    ("彭立群", "合伙人", "大连润禾创业投资有限公司", ["节能环保", "新材料", "海洋科技"]),
]
CONFLICT_REASONS = ["同单位", "同单位，且为该项目指导教师", "同单位同学院"]


# ----------------------------------------------------------------------------- model


@dataclass
class Entry:
    """One row of entries.csv."""

    code: str
    title: str
    group: str
    field: str
    organization: str
    leader: str = ""
    student: bool = False
    phone: str = ""
    email: str = ""
    summary: str = ""
    core: str = ""


@dataclass
class Judge:
    """One row of judges.csv."""

    username: str
    name: str
    title: str
    organization: str
    expertise: list[str]

    @property
    def email(self) -> str:
        """The judge's (fake) address."""
        return f"{self.username}@example.com"


@dataclass
class Sheet:
    """One judge's submitted sheet for one entry in one stage."""

    points: list[Decimal]
    submitted_at: datetime | None = None
    comment: str = ""

    @property
    def total(self) -> Decimal:
        """The sum of the points (Rule 1)."""
        return sum(self.points, Decimal("0"))


@dataclass
class Demo:
    """Everything the generator decides, before it is written out."""

    entries: list[Entry] = field(default_factory=list)
    judges: list[Judge] = field(default_factory=list)
    conflicts: list[tuple[str, str, str]] = field(default_factory=list)  # judge, entry, reason
    reached: dict[str, list[str]] = field(default_factory=dict)  # stage -> entry codes
    assignments: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (judge, entry)
    sheets: dict[tuple[str, str, str], Sheet] = field(default_factory=dict)  # stage, judge, entry
    report: dict[str, object] = field(default_factory=dict)


def stage_score(totals: list[Decimal], trim: int = 1, min_sheets: int = 5) -> Decimal:
    """Rule 2: drop `trim` highest and lowest totals when there are enough, mean, half-up."""
    values = sorted(totals)
    if len(values) >= min_sheets and len(values) > 2 * trim:
        values = values[trim : len(values) - trim]
    mean = sum(values, Decimal("0")) / len(values)
    return mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rubric(stage_code: str, group: str) -> list[tuple[str, int, str]]:
    """The (name, max, description) lines of one stage's rubric for one group."""
    return next(s for s in STAGES if s["code"] == stage_code)["rubric"][group]


def stage_conf(stage_code: str) -> dict:
    """The STAGES item with this code."""
    return next(s for s in STAGES if s["code"] == stage_code)


# ----------------------------------------------------------------------------- generation


class Generator:
    """Makes the demo's numbers consistent; one instance per run."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.demo = Demo()
        self.used_names: set[str] = {j[0] for j in JUDGES}
        self.bias: dict[str, float] = {}
        self.profile: dict[str, dict[str, float]] = {}
        self.panels: dict[str, list[str]] = {}

    # -- people and organizations

    def person(self) -> str:
        """A Chinese name not used yet."""
        rng = self.rng
        while True:
            given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2, 2))))
            name = rng.choice(SURNAMES) + given
            if name not in self.used_names and len(set(given)) == len(given):
                self.used_names.add(name)
                return name

    def company(self, field_name: str, used: set[str]) -> str:
        """An illustrative company name, 大连 + brand + trade + suffix, its brand unused."""
        rng = self.rng
        brand = rng.choice([b for b in BRANDS if b not in used])
        used.add(brand)
        trade = rng.choice(TRADES[field_name])
        return f"大连{brand}{trade}{rng.choice(COMPANY_SUFFIXES)}"

    def campus(self, field_name: str) -> str:
        """A university or institute, weighted by who works in the field."""
        weights = CAMPUS_WEIGHTS[field_name]
        names = list(weights)
        return self.rng.choices(names, weights=[weights[n] for n in names])[0]

    # -- entries

    def make_entries(self) -> None:
        """Titles, organizations, leaders, student flags, contacts and summaries."""
        rng = self.rng
        companies: set[str] = set()
        by_group: dict[str, list[Entry]] = {"angel": [], "growth": []}
        for field_name in FIELDS:
            for group, title, core in PROJECTS[field_name]:
                if title not in WINNERS.values() and rng.random() < CAMPUS_SHARE[group]:
                    org = self.campus(field_name)
                else:
                    org = self.company(field_name, companies)
                by_group[group].append(
                    Entry("", title, group, field_name, org, leader=self.person(), core=core)
                )
        for group, entries in by_group.items():
            rng.shuffle(entries)  # codes follow registration order, not field
            for n, entry in enumerate(entries, 1):
                entry.code = f"{GROUP_PREFIX[group]}-{n:03d}"
                entry.email = f"{entry.code.lower()}@example.com"
            self.demo.entries.extend(entries)
        phones = rng.sample(range(10000), len(self.demo.entries))
        for entry, number in zip(self.demo.entries, phones, strict=True):
            entry.phone = f"1380000{number:04d}"
        for group in by_group:
            campus = [e for e in by_group[group] if e.organization in UNIVERSITIES]
            assert len(campus) >= STUDENT_TEAMS[group], (group, len(campus))
            for entry in rng.sample(campus, STUDENT_TEAMS[group]):
                entry.student = True

    def write_summaries(self) -> None:
        """One sentence on the project, one on how far it has got."""
        rng = self.rng
        for entry in self.demo.entries:
            if entry.group == "growth":
                pool = GROWTH_PROGRESS
            elif entry.student:
                pool = ANGEL_PROGRESS + STUDENT_PROGRESS
            else:
                pool = ANGEL_PROGRESS
            progress = rng.choice(pool).format(
                n=rng.randint(2, 6),
                m=rng.randrange(100, 801, 50),
                y=rng.randint(2013, 2018),
                r=rng.randrange(300, 6001, 10),
                c=rng.randint(12, 180),
            )
            entry.summary = entry.core + progress

    # -- who gets how far

    def choose_progress(self) -> None:
        """Pick the semi-finalists (20 student teams) and finalists (both first prizes)."""
        rng = self.rng
        demo = self.demo
        judge01_org = JUDGES[0][2]
        semi: list[str] = []
        final: list[str] = []
        for group, _ in GROUPS:
            entries = [e for e in demo.entries if e.group == group]
            winner = next(e for e in entries if e.title == WINNERS[group])
            quota = stage_conf("prelim")["advance"][group]
            students = [e for e in entries if e.student and e is not winner]
            others = [e for e in entries if not e.student and e is not winner]
            picked = [winner]
            picked += rng.sample(students, SEMI_STUDENTS[group] - winner.student)
            picked += rng.sample(others, quota - len(picked))
            assert len(picked) == quota
            semi += [e.code for e in picked]
            # judge01 sits on both final panels, so no finalist may share its organization.
            pool = [e for e in picked if e is not winner and e.organization != judge01_org]
            fquota = stage_conf("semi")["advance"][group]
            final += [winner.code] + [e.code for e in rng.sample(pool, fquota - 1)]
        demo.reached = {
            "prelim": sorted(e.code for e in demo.entries),
            "semi": sorted(semi),
            "final": sorted(final),
        }

    # -- the jury

    def make_judges(self) -> None:
        """The 29 judges and a handful of binding same-organization conflicts."""
        rng = self.rng
        demo = self.demo
        for n, (name, title, org, expertise) in enumerate(JUDGES, 1):
            demo.judges.append(Judge(f"judge{n:02d}", name, title, org, list(expertise)))
            self.bias[f"judge{n:02d}"] = max(-4.0, min(4.0, rng.gauss(0, 2.0)))
        by_code = {e.code: e for e in demo.entries}
        semi, final = set(demo.reached["semi"]), set(demo.reached["final"])

        def pairs(judge: Judge, codes) -> list[str]:
            return [c for c in sorted(codes) if by_code[c].organization == judge.organization]

        conflicts: list[tuple[str, str, str]] = []
        judge01 = demo.judges[0]
        # judge01's own conflict touches an entry that went no further than the preliminaries.
        conflicts.append(
            (judge01.username, rng.choice(pairs(judge01, set(by_code) - semi)), CONFLICT_REASONS[0])
        )
        wanted = [final, semi - final, set(by_code) - semi, semi, set(by_code) - semi]
        candidates = [j for j in demo.judges[1:] if any(pairs(j, by_code))]
        rng.shuffle(candidates)
        for codes in wanted:
            for judge in candidates:
                options = pairs(judge, codes)
                if options and judge.username not in {c[0] for c in conflicts}:
                    code = rng.choice(options)
                    advisor = by_code[code].student and judge.title == "教授"
                    reason = CONFLICT_REASONS[1] if advisor else rng.choice(CONFLICT_REASONS[::2])
                    conflicts.append((judge.username, code, reason))
                    break
        demo.conflicts = conflicts

    def eligible(self, judge: Judge, entry: Entry) -> bool:
        """No judge sees an entry of their own organization (binding conflict or not)."""
        if judge.organization == entry.organization:
            return False
        return (judge.username, entry.code) not in {(c[0], c[1]) for c in self.demo.conflicts}

    def assign_online(self, stage_code: str) -> None:
        """Give every entry judges_per_entry judges, loads even, expertise preferred."""
        rng = self.rng
        demo = self.demo
        k = stage_conf(stage_code)["judges_per_entry"]
        entries = [e for e in demo.entries if e.code in demo.reached[stage_code]]
        for _attempt in range(200):
            load = {j.username: 0 for j in demo.judges}
            order = entries[:]
            rng.shuffle(order)
            result = []
            for entry in order:
                candidates = [j for j in demo.judges if self.eligible(j, entry)]
                rng.shuffle(candidates)
                # Least loaded first; among equals, judges who know the entry's field.
                candidates.sort(
                    key=lambda j, e=entry: (load[j.username], e.field not in j.expertise)
                )
                for judge in candidates[:k]:
                    load[judge.username] += 1
                    result.append((judge.username, entry.code))
            if max(load.values()) - min(load.values()) <= 1:
                demo.assignments[stage_code] = sorted(result)
                return
        raise AssertionError(f"could not balance {stage_code}")

    def assign_final(self) -> None:
        """One panel of judges_per_entry per group; judge01 sits on both."""
        rng = self.rng
        demo = self.demo
        k = stage_conf("final")["judges_per_entry"]
        used = {DEMO_JUDGE}
        result = []
        for group, _ in GROUPS:
            finalists = [
                e for e in demo.entries if e.group == group and e.code in demo.reached["final"]
            ]
            eligible = [
                j
                for j in demo.judges
                if j.username not in used and all(self.eligible(j, e) for e in finalists)
            ]
            panel = [DEMO_JUDGE]
            if group == "angel":
                panel.append(SECOND_DEMO_JUDGE)
            panel += [
                j.username
                for j in rng.sample(
                    [j for j in eligible if j.username not in panel], k - len(panel)
                )
            ]
            used.update(panel)
            self.panels[group] = sorted(panel)
            for entry in finalists:
                result += [(u, entry.code) for u in panel]
        demo.assignments["final"] = sorted(result)

    # -- scores

    def sheet(self, stage_code: str, judge: str, entry: Entry, latent: float) -> Sheet:
        """A sheet around the entry's latent quality, the judge's leniency and some noise."""
        rng = self.rng
        target = latent + self.bias[judge] + rng.gauss(0, 2.5)
        profile = self.profile.setdefault(entry.code, {})
        points = []
        for name, maximum, _ in rubric(stage_code, entry.group):
            bent = profile.setdefault(name, rng.gauss(0, 0.05))
            share = min(1.0, max(0.15, target / 100 + bent + rng.gauss(0, 0.035)))
            halves = max(0, min(2 * maximum, round(share * maximum * 2)))
            points.append(Decimal(halves) / 2)
        return Sheet(points)

    def score_entry(self, stage_code: str, entry: Entry, latent: float) -> None:
        """(Re)write every assigned judge's sheet for one entry, judge01 skipped in the final."""
        for judge, code in self.demo.assignments[stage_code]:
            if code != entry.code:
                continue
            if stage_code == "final" and judge == DEMO_JUDGE:
                continue
            self.demo.sheets[(stage_code, judge, code)] = self.sheet(
                stage_code, judge, entry, latent
            )

    def scores(self, stage_code: str, codes) -> dict[str, Decimal]:
        """Each entry's stage score from the sheets written so far."""
        result = {}
        for code in codes:
            totals = [
                s.total
                for (st, _, c), s in self.demo.sheets.items()
                if st == stage_code and c == code
            ]
            result[code] = stage_score(totals, RULE["trim"], RULE["min_sheets_to_trim"])
        return result

    def score_online(self, stage_code: str, top: float, cut: float, bottom: float) -> None:
        """Score an online stage so exactly the chosen entries lead their group, clearly."""
        rng = self.rng
        demo = self.demo
        nxt = "semi" if stage_code == "prelim" else "final"
        advancing = set(demo.reached[nxt])
        for group, _ in GROUPS:
            entries = [
                e for e in demo.entries if e.group == group and e.code in demo.reached[stage_code]
            ]
            latent = {
                e.code: rng.uniform(cut + 0.5, top)
                if e.code in advancing
                else rng.uniform(bottom, cut + 0.5)
                for e in entries
            }
            for entry in entries:
                self.score_entry(stage_code, entry, latent[entry.code])
            quota = stage_conf(stage_code)["advance"][group]
            for _round in range(500):
                scores = self.scores(stage_code, latent)
                # Redraw whoever lands in the band around the cut, so the gap is at least 1.
                redo = [
                    c
                    for c in latent
                    if (c in advancing and scores[c] < Decimal(cut) + 1)
                    or (c not in advancing and scores[c] > Decimal(cut))
                ]
                ranked = sorted(latent, key=lambda c, s=scores: -s[c])
                window = ranked[max(0, quota - 5) : quota + 5]
                seen: set[Decimal] = set()
                for code in window:  # no equal scores anywhere near the cut
                    if scores[code] in seen:
                        redo.append(code)
                    seen.add(scores[code])
                if not redo:
                    break
                for code in sorted(set(redo)):
                    # An entry's profile and judges can pull it away from its latent quality
                    # for good; nudging the latent as well as redrawing always converges.
                    if code in advancing and scores[code] < Decimal(cut) + 1:
                        latent[code] += 0.5
                    elif code not in advancing and scores[code] > Decimal(cut):
                        latent[code] -= 0.5
                    entry = next(e for e in entries if e.code == code)
                    self.score_entry(stage_code, entry, latent[code])
            else:
                raise AssertionError(f"{stage_code}/{group}: could not separate the cut")

    def score_final(self) -> None:
        """Eight sheets per finalist; judge01's missing ninth cannot change either winner."""
        rng = self.rng
        demo = self.demo
        for group, _ in GROUPS:
            entries = [
                e for e in demo.entries if e.group == group and e.code in demo.reached["final"]
            ]
            winner = next(e for e in entries if e.title == WINNERS[group])
            others = [e for e in entries if e is not winner]
            rng.shuffle(others)
            latent = {winner.code: 93.0}
            for i, entry in enumerate(others):  # spread the other places from 88.5 down to 77
                latent[entry.code] = 88.5 - i * 11.5 / (len(others) - 1) + rng.uniform(-0.4, 0.4)
            for entry in entries:
                self.score_entry("final", entry, latent[entry.code])
            for _round in range(500):
                redo = set()
                worst, best = self.final_bounds(group)
                # Aim for 1.5 points so the asserted 1 point holds with room to spare.
                if worst[winner.code] - max(best[c] for c in best if c != winner.code) < 1.5:
                    redo.add(winner.code)
                    redo.update(
                        c
                        for c in best
                        if c != winner.code and best[c] > worst[winner.code] - Decimal("1.5")
                    )
                now = self.scores("final", latent)
                seen: set[Decimal] = set()
                for code in sorted(now, key=lambda c: -now[c]):  # distinct places before judge01
                    if now[code] in seen:
                        redo.add(code)
                    seen.add(now[code])
                if not redo:
                    break
                for code in sorted(redo):
                    if code == winner.code:
                        latent[code] += 0.25
                    entry = next(e for e in entries if e.code == code)
                    self.score_entry("final", entry, latent[code])
            else:
                raise AssertionError(f"final/{group}: could not make the winner safe")

    def final_bounds(self, group: str) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """Each finalist's lowest and highest possible score over judge01's possible totals."""
        demo = self.demo
        worst: dict[str, Decimal] = {}
        best: dict[str, Decimal] = {}
        codes = [
            e.code for e in demo.entries if e.group == group and e.code in demo.reached["final"]
        ]
        # The trimmed mean never falls when one total rises, so 0 and 100 are the extremes.
        for code in codes:
            totals = [
                s.total for (st, _, c), s in demo.sheets.items() if st == "final" and c == code
            ]
            worst[code] = stage_score([*totals, Decimal(0)])
            best[code] = stage_score([*totals, Decimal(100)])
        return worst, best

    # -- timestamps and comments

    def stamp(self) -> None:
        """Submission times (prelim in August, semi in September, final on roadshow day)."""
        rng = self.rng
        demo = self.demo
        windows = {
            "prelim": (datetime(2020, 8, 3, tzinfo=UTC), 19),
            "semi": (datetime(2020, 9, 7, tzinfo=UTC), 12),
        }
        for (stage_code, _, _), sheet in sorted(demo.sheets.items()):
            if stage_code in windows:
                start, days = windows[stage_code]
                # 08:00-23:00 in Dalian is 00:00-15:00 UTC.
                sheet.submitted_at = start + timedelta(
                    days=rng.randrange(days),
                    hours=rng.randrange(15),
                    minutes=rng.randrange(60),
                    seconds=rng.randrange(60),
                )
        slot = timedelta(minutes=PITCH_MINUTES + QA_MINUTES + 3)
        for group, _ in GROUPS:
            order = [c for c in demo.reached["final"] if c.startswith(GROUP_PREFIX[group])]
            rng.shuffle(order)  # the draw for the running order
            start = ROADSHOW_DAY + (timedelta(hours=5) if group == "growth" else timedelta(0))
            for n, code in enumerate(order):
                ends = start + n * slot + timedelta(minutes=PITCH_MINUTES + QA_MINUTES)
                for (stage_code, _, c), sheet in sorted(demo.sheets.items()):
                    if stage_code == "final" and c == code:
                        sheet.submitted_at = ends + timedelta(seconds=rng.randrange(30, 240))
        for (stage_code, _, _), sheet in sorted(demo.sheets.items()):
            chance = {"prelim": 0.3, "semi": 0.45, "final": 0.6}[stage_code]
            if rng.random() < chance:
                band = "high" if sheet.total >= 85 else "mid" if sheet.total >= 70 else "low"
                sheet.comment = rng.choice(COMMENTS[band])

    def run(self) -> Demo:
        """Generate everything, in an order where each step can rely on the last."""
        self.make_entries()
        self.choose_progress()
        self.write_summaries()
        self.make_judges()
        self.assign_online("prelim")
        self.assign_online("semi")
        self.assign_final()
        self.score_online("prelim", top=90, cut=77, bottom=48)
        self.score_online("semi", top=91, cut=81, bottom=71)
        self.score_final()
        self.stamp()
        self.demo.report["final_panels"] = self.panels
        return self.demo


# ----------------------------------------------------------------------------- checks


def verify(demo: Demo) -> dict[str, object]:
    """Assert every invariant from the data alone; return the numbers worth reporting."""
    report: dict[str, object] = {}
    entries = {e.code: e for e in demo.entries}
    judges = {j.username: j for j in demo.judges}
    group_codes = [g for g, _ in GROUPS]
    assert len(entries) == len(demo.entries) == 116
    split = {g: sum(e.group == g for e in demo.entries) for g in group_codes}
    assert split == {"angel": 64, "growth": 52}, split
    report["entries"] = split
    assert len({e.title for e in demo.entries}) == 116
    assert len({e.phone for e in demo.entries}) == 116
    for group, title in WINNERS.items():
        winner = next(e for e in demo.entries if e.title == title)
        assert winner.group == group
    assert next(e for e in demo.entries if e.title == HTPO).field == "新材料"
    assert next(e for e in demo.entries if e.title == ZKHY).field in ("生物技术", "海洋科技")
    for e in demo.entries:
        assert re.fullmatch(r"1380000\d{4}", e.phone) and e.email.endswith("@example.com")
        assert e.field in FIELDS and e.leader and e.summary and e.organization
        assert not (e.student and e.organization in INSTITUTES)

    assert len(judges) == 29 and len({j.name for j in demo.judges}) == 29
    for j in demo.judges:
        assert 1 <= len(j.expertise) <= 3 and set(j.expertise) <= set(FIELDS)

    assert 4 <= len(demo.conflicts) <= 8
    assert len({(j, c) for j, c, _ in demo.conflicts}) == len(demo.conflicts)
    for username, code, _ in demo.conflicts:
        assert judges[username].organization == entries[code].organization
    conflicted = {(j, c) for j, c, _ in demo.conflicts}

    for stage in STAGES:
        for group in group_codes:
            lines = stage["rubric"][group]
            assert sum(m for _, m, _ in lines) == 100, (stage["code"], group)
            assert len({n for n, _, _ in lines}) == len(lines)
            assert all(d for _, _, d in lines)

    # Assignments: exact counts, never conflicted, never the judge's own organization.
    for stage in STAGES:
        code = stage["code"]
        pairs = demo.assignments[code]
        assert len(set(pairs)) == len(pairs)
        per_entry: dict[str, int] = {}
        for username, entry_code in pairs:
            assert (username, entry_code) not in conflicted
            assert judges[username].organization != entries[entry_code].organization
            per_entry[entry_code] = per_entry.get(entry_code, 0) + 1
        assert sorted(per_entry) == demo.reached[code]
        assert set(per_entry.values()) == {stage["judges_per_entry"]}
        load = {u: sum(p[0] == u for p in pairs) for u in judges}
        if stage["kind"] == "online":
            assert max(load.values()) - min(load.values()) <= 1, (code, load)
        report[f"{code}_load"] = (min(load.values()), max(load.values()))

    # Sheets: prelim and semi complete; the final complete except judge01's.
    for stage in STAGES:
        code = stage["code"]
        expected = {
            (code, u, c)
            for u, c in demo.assignments[code]
            if not (code == "final" and u == DEMO_JUDGE)
        }
        actual = {k for k in demo.sheets if k[0] == code}
        assert actual == expected, code
    assert any(u == DEMO_JUDGE for u, _ in demo.assignments["final"])
    finalists_by_group = {
        g: [c for c in demo.reached["final"] if entries[c].group == g] for g in group_codes
    }
    assert {c for u, c in demo.assignments["final"] if u == DEMO_JUDGE} == set(
        demo.reached["final"]
    )
    for (stage_code, _, code), sheet in demo.sheets.items():
        lines = rubric(stage_code, entries[code].group)
        assert len(sheet.points) == len(lines)
        for p, (_, maximum, _) in zip(sheet.points, lines, strict=True):
            assert 0 <= p <= maximum and p % STEP == 0
        month = {"prelim": 8, "semi": 9, "final": 10}[stage_code]
        at = sheet.submitted_at
        assert at is not None and at.tzinfo is not None and (at.year, at.month) == (2020, month)

    def ranking(stage_code: str, group: str) -> list[tuple[str, Decimal]]:
        codes = [c for c in demo.reached[stage_code] if entries[c].group == group]
        scored = []
        for code in codes:
            totals = [
                s.total
                for (st, u, c), s in demo.sheets.items()
                if st == stage_code and c == code and (u, c) not in conflicted
            ]
            scored.append((code, stage_score(totals)))
        return sorted(scored, key=lambda x: (-x[1], x[0]))

    # Advancement: exactly the top N per group, a clear gap, no ties near the cut.
    for stage_code, nxt in (("prelim", "semi"), ("semi", "final")):
        for group in group_codes:
            ranked = ranking(stage_code, group)
            quota = stage_conf(stage_code)["advance"][group]
            top = {c for c, _ in ranked[:quota]}
            assert top == {c for c in demo.reached[nxt] if entries[c].group == group}
            gap = ranked[quota - 1][1] - ranked[quota][1]
            assert gap >= Decimal("0.5"), (stage_code, group, gap)
            near = [s for _, s in ranked[max(0, quota - 5) : quota + 5]]
            assert len(set(near)) == len(near), (stage_code, group, near)
            report[f"{stage_code}_{group}_cut"] = (
                str(ranked[quota - 1][1]),
                str(ranked[quota][1]),
                str(gap),
            )
    semi = set(demo.reached["semi"])
    assert sum(entries[c].student for c in semi) == SEMI_STUDENT_TEAMS
    assert any(e.student and e.code not in semi for e in demo.entries)
    assert {next(e.code for e in demo.entries if e.title == t) for t in WINNERS.values()} <= set(
        demo.reached["final"]
    )
    report["students"] = {"total": sum(e.student for e in demo.entries), "semi": SEMI_STUDENT_TEAMS}
    report["reached"] = {
        s: {g: sum(entries[c].group == g for c in demo.reached[s]) for g in group_codes}
        for s in demo.reached
    }
    assert report["reached"]["final"] == {"angel": 12, "growth": 10}

    # judge01 may not conflict with any finalist nor share an organization with one.
    for username, code, _ in demo.conflicts:
        assert not (username == DEMO_JUDGE and code in demo.reached["final"])
    assert all(
        entries[c].organization != judges[DEMO_JUDGE].organization for c in demo.reached["final"]
    )

    # The final: whatever judge01 enters (any total 0..100 in steps of 0.5), each winner stays
    # first by at least one point. Checked both by brute force and by the closed form.
    for group in group_codes:
        winner = next(e.code for e in demo.entries if e.title == WINNERS[group])
        totals = {
            c: [s.total for (st, u, cc), s in demo.sheets.items() if st == "final" and cc == c]
            for c in finalists_by_group[group]
        }
        assert all(len(t) == stage_conf("final")["judges_per_entry"] - 1 for t in totals.values())
        possible = [Decimal(h) / 2 for h in range(201)]
        lo = {c: min(stage_score([*t, x]) for x in possible) for c, t in totals.items()}
        hi = {c: max(stage_score([*t, x]) for x in possible) for c, t in totals.items()}
        eight = sorted(totals[winner])
        closed = (sum(eight[:-1], Decimal(0)) / 7).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert lo[winner] == closed
        runner = max((c for c in totals if c != winner), key=lambda c: hi[c])
        margin = lo[winner] - hi[runner]
        assert margin >= 1, (group, margin)
        now = {c: stage_score(t) for c, t in totals.items()}
        assert len(set(now.values())) == len(now), (group, now)
        assert max(now.values()) - sorted(now.values())[0] >= 5  # places are spread out
        report[f"final_{group}"] = {
            "winner_worst": str(lo[winner]),
            "runner_up_best": str(hi[runner]),
            "margin": str(margin),
            "now": [str(v) for v in sorted(now.values(), reverse=True)],
        }
    report["sheets"] = len(demo.sheets)
    report["conflicts"] = len(demo.conflicts)
    return report


# ----------------------------------------------------------------------------- output

_PLAIN = re.compile(r"[A-Za-z\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff·（）、，。—“”%℃]*")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _yaml(value, indent: int = 0) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item and not _flat(item):
                lines.append(f"{pad}{key}:")
                lines += _yaml(item, indent + 2)
            else:
                lines.append(f"{pad}{key}: {_inline(item)}")
    else:
        for item in value:
            if isinstance(item, dict):
                block = _yaml(item, indent + 2)
                block[0] = f"{pad}- {block[0].lstrip()}"
                lines += block
            else:
                lines.append(f"{pad}- {_inline(item)}")
    return lines


def _flat(value) -> bool:
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)


def _inline(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def contest_yaml() -> str:
    """The structure file: contest, groups, fields, stages with rubrics and awards, accounts."""
    stages = []
    for position, stage in enumerate(STAGES, 1):
        item = {
            "position": position,
            "code": stage["code"],
            "name": stage["name"],
            "kind": stage["kind"],
            "state": stage["state"],
            "judges_per_entry": stage["judges_per_entry"],
            **RULE,
            "pitch_minutes": PITCH_MINUTES,
            "qa_minutes": QA_MINUTES,
            "opens_at": stage["opens_at"],
        }
        if stage["advance"]:
            item["advance"] = dict(stage["advance"])
        item["rubric"] = {
            group: [
                {"name": n, "max": str(m), "step": str(STEP), "description": d} for n, m, d in lines
            ]
            for group, lines in stage["rubric"].items()
        }
        if stage["code"] == "final":
            item["awards"] = {
                group: [{"name": n, "quota": q, "prize": p} for n, q, p in tiers]
                for group, tiers in AWARDS.items()
            }
        stages.append(item)
    data = {
        "contest": CONTEST,
        "groups": [{"code": c, "name": n} for c, n in GROUPS],
        "fields": FIELDS,
        "stages": stages,
        "special_awards": [{"name": n, "rule": r, "prize": p} for n, r, p in SPECIAL_AWARDS],
        "organizer": ORGANIZER,
        "demo_passwords": DEMO_PASSWORDS,
        "files": {
            "entries": "entries.csv",
            "judges": "judges.csv",
            "conflicts": "conflicts.csv",
            "assignments": "assignments.csv",
            "sheets": "sheets.csv",
            "scores": "scores.csv",
        },
    }
    header = [
        "# The 2020 Dalian demo contest: structure, rubrics, awards and demo accounts.",
        "# Written by seed/generate.py (edit that, then run it); see seed/README.md for",
        "# which facts are real and which are illustrative.",
        "# advance: how many entries of each group go on to the next stage.",
        "# Numbers that are Decimals in the app (points, prize money) are quoted strings.",
    ]
    return "\n".join(header + _yaml(data)) + "\n"


def write(demo: Demo, out: Path) -> None:
    """Write contest.yaml and the CSV files into out."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "contest.yaml").write_text(contest_yaml(), encoding="utf-8")

    def table(name: str, header: list[str], rows) -> None:
        with (out / name).open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    table(
        "entries.csv",
        [
            "code",
            "title",
            "group",
            "field",
            "organization",
            "leader",
            "student_team",
            "phone",
            "email",
            "summary",
        ],
        [
            [
                e.code,
                e.title,
                e.group,
                e.field,
                e.organization,
                e.leader,
                "yes" if e.student else "no",
                e.phone,
                e.email,
                e.summary,
            ]
            for e in sorted(demo.entries, key=lambda e: e.code)
        ],
    )
    table(
        "judges.csv",
        ["username", "name", "title", "organization", "expertise", "email"],
        [
            [j.username, j.name, j.title, j.organization, "、".join(j.expertise), j.email]
            for j in demo.judges
        ],
    )
    decided = "2020-07-30T02:00:00+00:00"
    table(
        "conflicts.csv",
        ["judge", "entry", "reason", "source", "status", "created_at"],
        [[u, c, r, "organizer", "binding", decided] for u, c, r in sorted(demo.conflicts)],
    )
    order = {s["code"]: i for i, s in enumerate(STAGES)}
    table(
        "assignments.csv",
        ["stage", "judge", "entry"],
        [
            [s, u, c]
            for s in sorted(demo.assignments, key=order.get)
            for u, c in sorted(demo.assignments[s], key=lambda p: (p[1], p[0]))
        ],
    )
    keys = sorted(demo.sheets, key=lambda k: (order[k[0]], k[2], k[1]))
    table(
        "sheets.csv",
        ["stage", "judge", "entry", "state", "submitted_at", "comment"],
        [
            [
                s,
                u,
                c,
                "submitted",
                demo.sheets[(s, u, c)].submitted_at.isoformat(),
                demo.sheets[(s, u, c)].comment,
            ]
            for s, u, c in keys
        ],
    )
    entries = {e.code: e for e in demo.entries}
    rows = []
    for s, u, c in keys:
        lines = rubric(s, entries[c].group)
        for (name, _, _), p in zip(lines, demo.sheets[(s, u, c)].points, strict=True):
            rows.append([s, u, c, name, f"{p:.1f}"])
    table("scores.csv", ["stage", "judge", "entry", "criterion", "points"], rows)


def main(argv: list[str]) -> None:
    """Generate, verify, write and print the numbers."""
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    demo = Generator().run()
    report = verify(demo)
    report["final_panels"] = demo.report["final_panels"]
    write(demo, out)
    for key, value in report.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main(sys.argv)
