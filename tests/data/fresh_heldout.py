"""A fresh held-out set for `curate dedupe` (issue 13): written and labelled by hand, frozen.

Written after the first labelled set (build_pairs.py) had been seen while tuning, so that
recall and precision can be scored on riddles no tuning looked at. None of its questions is in
dedupe_pairs.jsonl / dedupe_triples.jsonl or in raw/ (checked when it is built). Labels as in
build_pairs.py: `same` (one riddle), `distinct` (two riddles), `conflict` (the same question
with another answer). 歇后语 come from ../shared/data/xiehouyu.json as written there (the
left side `a`); their rewordings (`b`) are written here. Every pair has `half` = `fresh`.

Triples (A, B, C): A and C two riddles judged distinct with one answer; B between them, either
written by hand (it says what A says and what C says) or made by the rule of build_pairs.py
(A's first half + C's second half).

    .venv/bin/python tests/data/fresh_heldout.py   # writes dedupe_heldout(_triples).jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

# Brain teasers reworded the way other collections word them (什么 / 哪种 / 哪一个,
# 最 / 总是, a clause added or dropped): one riddle, one answer.
TEASER_SAME = [
    ("什么东西有脖子没有头？", "哪样东西有脖子却没有脑袋？", "瓶子"),
    ("什么东西越削越短？", "哪种东西削得越多就变得越短？", "铅笔"),
    ("什么船永远不会沉？", "哪一种船永远都沉不下去？", "宇宙飞船"),
    ("什么东西有齿却不能咬？", "有牙齿却咬不了东西的是什么？", "梳子"),
    ("什么东西有嘴不会说话？", "哪样东西长着嘴却从来不开口说话？", "茶壶"),
    ("什么东西白天满，晚上空？", "哪种东西白天装得满满的，到了晚上就空了？", "鞋子"),
    ("什么东西越抽越短？", "哪种东西抽得越多就越短？", "香烟"),
    ("什么东西你天天离不开，却从来看不见？", "哪样东西人人每天都离不开，可谁也看不见？", "空气"),
    ("什么蛋好看不能吃？", "哪种蛋长得好看却不能吃？", "脸蛋"),
    ("什么老鼠用两只脚走路？", "哪种老鼠是用两条腿走路的？", "米老鼠"),
    ("什么人最喜欢下雨天？", "哪种人一到下雨天就特别高兴？", "卖伞的人"),
    ("什么鬼最讨人喜欢？", "哪种鬼大家都喜欢？", "机灵鬼"),
    ("什么猫不会抓老鼠？", "哪种猫从来不抓老鼠？", "熊猫"),
    ("什么动物一辈子戴着墨镜？", "哪种动物永远戴着一副黑眼镜？", "熊猫"),
    ("什么马从来没人骑？", "哪一种马是没有人骑的？", "河马"),
    ("什么东西晴天缩起来，雨天张开？", "哪样东西天晴时收着，下雨时才撑开？", "雨伞"),
    ("什么东西越老越值钱？", "哪种东西放得越久越值钱？", "古董"),
    ("什么东西越吹越大？", "哪样东西你越吹它就越大？", "气球"),
    ("什么山没有石头？", "哪一座山上一块石头都没有？", "冰山"),
    ("什么东西一说出来就没了？", "哪样东西只要一开口说出来就不见了？", "沉默"),
    ("什么东西你给了别人，自己还留着？", "哪样东西你送给别人以后自己依然拥有？", "知识"),
    ("什么东西没有脚却能走遍天下？", "哪样东西不长腿却能走遍全世界？", "信"),
    ("什么东西一头上去另一头就下来？", "哪种东西一边升起，另一边就落下？", "跷跷板"),
    ("什么东西会走却没有腿？", "哪样东西不长脚却一直在走？", "钟表"),
    ("什么袋子装不了东西？", "哪种袋子什么也装不下？", "脑袋"),
    ("什么人天天跑却哪儿也没去？", "哪种人每天都在跑，却从没离开原地？", "跑步机上的人"),
    ("什么东西越分越多？", "哪样东西越和别人分享就越多？", "快乐"),
    (
        "什么动物早上四条腿，中午两条腿，晚上三条腿？",
        "哪种动物早晨四只脚，中午两只脚，傍晚三只脚？",
        "人",
    ),
    ("什么蛋从来孵不出小鸡？", "哪种蛋永远孵不出小鸡来？", "坏蛋"),
    ("什么狗不会叫？", "哪种狗从来不叫？", "热狗"),
    ("什么鱼从来不游泳？", "哪种鱼一辈子都不游泳？", "咸鱼"),
    ("什么东西看得见摸不着？", "哪样东西看得到却摸不到？", "影子"),
    ("什么东西每个人都有，却用不着买？", "人人都有、却不必花钱买的是什么？", "生日"),
    ("什么东西能装下整个世界？", "哪样东西能把全世界都装进去？", "眼睛"),
    (
        "一只羊在吃草，一只狼从旁边经过却没有吃羊，为什么？",
        "狼从一只正在吃草的羊身边走过，却没吃它，这是为什么？",
        "狼吃饱了",
    ),
    ("什么动物最爱生气？", "哪种动物总是气鼓鼓的？", "河豚"),
    ("什么人最会变脸？", "哪种人总是说变脸就变脸？", "川剧演员"),
    ("什么东西最怕冷水？", "哪样东西总是一碰到冷水就完了？", "烧红的铁"),
    ("哪一个字最大？", "什么字是最大的？", "大"),
    ("什么车最安静？", "哪种车总是静悄悄的？", "自行车"),
    ("什么虫最会唱歌？", "哪种虫子最爱唱歌？", "蝈蝈"),
    (
        "什么东西夏天穿得少，冬天穿得多？",
        "夏天穿得少、冬天穿得多，这是什么东西？",
        "人",
    ),
    ("什么书最厚却不用读完？", "哪本书最厚，却谁也不会从头读到尾？", "字典"),
    (
        "小李开车闯了红灯，警察却没有拦他，为什么？",
        "小李开着车闯红灯，交警看见了也没管，这是为什么？",
        "小李是步行的",
    ),
    ("什么东西越修越短？", "哪种东西修得越多就越短？", "指甲"),
]

# 谜语 (打一物 ...) reworded: one riddle.
MIYU_SAME = [
    (
        "麻屋子，红帐子，里面住着白胖子（打一食物）",
        "麻房子，红帐子，里头睡个白胖子（打一食物）",
        "花生",
    ),
    (
        "有面没有口，有脚没有手，虽有四只脚，自己不会走（打一家具）",
        "有脸没有嘴，有腿没有手，长着四条腿，自己不会走（打一家具）",
        "桌子",
    ),
    (
        "弟兄七八个，围着柱子坐，大家一分手，衣服就扯破（打一植物）",
        "兄弟七八个，围着柱子坐，只要一分家，衣服就扯破（打一植物）",
        "大蒜",
    ),
    (
        "红口袋，绿口袋，有人怕，有人爱（打一蔬菜）",
        "红口袋绿口袋，有的人怕有的人爱（打一蔬菜）",
        "辣椒",
    ),
    (
        "头戴红帽子，身穿白袍子，走路摆架子，说话伸脖子（打一动物）",
        "头顶红帽子，身披白袍子，走路像公子，唱歌伸脖子（打一动物）",
        "鹅",
    ),
    (
        "千条线，万条线，掉到水里看不见（打一自然现象）",
        "千根线万根线，落到水里都不见（打一自然现象）",
        "雨",
    ),
    (
        "一个黑孩，从不开口，要是开口，掉出舌头（打一食物）",
        "一个黑娃娃，从来不张嘴，一旦张开嘴，吐出白舌头（打一食物）",
        "瓜子",
    ),
    (
        "身穿绿衣裳，肚里水汪汪，生的子儿多，个个黑脸膛（打一水果）",
        "绿衣裳包着身，肚里红水汪汪，生下孩子一大堆，个个都是黑脸膛（打一水果）",
        "西瓜",
    ),
    (
        "上边毛，下边毛，中间一颗黑葡萄（打人体一部位）",
        "上面有毛下面有毛，当中夹着一颗黑葡萄（打人体一部位）",
        "眼睛",
    ),
    (
        "有时落在山腰，有时挂在树梢，有时像个圆盘，有时像把镰刀（打一自然物）",
        "有时挂在山腰，有时落在树梢，有时圆得像盘子，有时弯得像镰刀（打一天体）",
        "月亮",
    ),
    (
        "小时穿黑衣，大时穿绿袍，水里过日子，岸上来睡觉（打一动物）",
        "小时候穿黑衣，长大了换绿袍，在水里过日子，到岸上来睡觉（打一动物）",
        "青蛙",
    ),
    (
        "两只小船各西东，十个客人坐当中，白天来回走，晚上停港中（打一物）",
        "两只小船不挂篷，十位客人坐船中，白天四处走，夜里靠港中（打一物）",
        "鞋子",
    ),
    (
        "一棵小树五个杈，不长叶子不开花（打人体一部位）",
        "一棵小树有五个杈，从来不长叶也不开花（打人体一部位）",
        "手",
    ),
    (
        "圆圆脸儿像苹果，又酸又甜营养多，既能做菜吃，又可当水果（打一蔬菜）",
        "脸儿圆圆像苹果，酸酸甜甜营养多，能做菜来吃，也能当水果（打一蔬菜）",
        "西红柿",
    ),
]

# 字谜: one clue, reworded (one riddle).
ZIMI_SAME = [
    ("人在门里（打一字）", "门里站着一个人（打一字）", "闪"),
    ("一人靠在树旁（打一字）", "一个人靠着大树（打一字）", "休"),
    ("山上有山（打一字）", "一座山上又叠一座山（打一字）", "出"),
    ("口中有人（打一字）", "人被关在口里面（打一字）", "囚"),
    ("夕阳照在口上（打一字）", "夕阳西下照着一张口（打一字）", "名"),
    ("十张口，一颗心（打一字）", "十个口，一个心（打一字）", "思"),
    ("千里草（打一字）", "千里之外长青草（打一字）", "董"),
    ("两人坐在土上（打一字）", "两个人坐在土堆上（打一字）", "坐"),
    ("木字多一撇（打一字）", "木字上面加一撇（打一字）", "禾"),
    ("一加一不是二（打一字）", "一加一不等于二（打一字）", "王"),
    ("上下合（打一字）", "上边下边合起来（打一字）", "卡"),
    (
        "有水能养鱼，有土能种麦，有人不是你，有马跑天下（打一字）",
        "加水可养鱼，加土好种麦，加人不是你，加马走天下（打一字）",
        "也",
    ),
    ("人有他大，天没他大（打一字）", "人有它大，天无它大（打一字）", "一"),
    ("大口吃小口（打一字）", "大口里面套小口（打一字）", "回"),
]

# 歇后语: a saying of xiehouyu.json (first) and a rewording with synonyms, or two sayings of
# xiehouyu.json that say the same thing (the last four): one riddle.
XIEHOUYU_SAME = [
    ("秦始皇修坟墓", "秦始皇给自己修陵墓", "自作自受；找死；自己找死"),
    ("歪嘴吹海螺", "歪嘴巴吹海螺", "歪对歪；两凑合"),
    ("三伏天喝凉茶", "大热天喝凉茶", "正是时候"),
    ("刺猬的脑袋", "刺猬的头", "不是好剃的头"),
    ("三九天的叫花子", "数九寒天的乞丐", "又冷又饿"),
    ("兔子宴请老虎", "兔子请老虎吃饭", "寅吃卯粮"),
    ("病床上摘牡丹", "躺在病床上还摘牡丹", "临死还贪花"),
    ("老头子坐摇篮", "老头儿坐进摇篮里", "装孙子"),
    ("抢吃弄破碗", "抢着吃饭打破了碗", "欲速则不达"),
    ("阎王打瞌睡", "阎王爷打盹", "点错了名"),
    ("鸭背上泼水", "往鸭子背上泼水", "劳而无功；两不沾；不沾"),
    ("鳄鱼流眼泪", "鳄鱼掉眼泪", "可怜不得；假慈悲"),
    ("小寡妇上坟", "年轻寡妇去上坟", "越哭越伤心；哭得好伤心"),
    ("耳朵里抹石灰", "耳朵眼里抹白灰", "白听"),
    ("吃猪肉念佛经", "一边吃猪肉一边念经", "假善人"),
    ("雾中照相", "大雾天里拍照", "眉目不清"),
    ("一根木头劈八开", "一根木头劈成八瓣", "不大方"),
    ("单身汉接寡妇", "光棍娶寡妇", "整旧如新"),
    ("王八扛叉", "乌龟扛着钢叉", "自觉有光"),
    ("俩和尚打架", "两个和尚打架", "谁也抓不到谁的辫子"),
    ("桂花种在厕所旁", "茅房边上种桂花", "香风臭气"),
    ("杂货铺里卖棺材", "杂货店里卖寿材", "无奇不有；死活都赚钱"),
    ("见啥菩萨烧啥香", "见什么菩萨烧什么香", "看人行事"),
    ("斗笠穿孔", "斗笠上破了个洞", "出头之日到了"),
    ("潘仁美挂帅", "潘仁美当元帅", "奸臣当道"),
    ("肚脐眼巴膏药", "肚脐眼上贴膏药", "贴心；没病找病"),
    ("破铜烂铁当武器", "拿破铜烂铁当兵器", "打烂仗"),
    ("四两棉花八张弓", "四两棉花用八张弓来弹", "细谈（弹）"),
    ("三分面加七分水", "三分面粉七分水", "十分糊涂"),
    ("鸭子回娘家", "鸭走娘家", "大摇大摆"),
    ("拿着鞋子当帽子", "拿鞋当帽子", "上下不分"),
    ("理发师教徒弟", "理发店收徒弟", "从头来；从头学起"),
]

# Brain teasers and 谜语 with one answer that are different jokes: two riddles.
TEASER_DISTINCT = [
    ("什么东西越吹越大？", "什么东西一碰到针就会爆？", "气球"),
    ("什么猫不会抓老鼠？", "哪种动物一辈子都戴着墨镜？", "熊猫"),
    ("什么东西晴天缩起来，雨天张开？", "什么东西总是替别人挨淋？", "雨伞"),
    ("什么东西看得见摸不着？", "什么东西你走它也走，你停它也停？", "影子"),
    ("什么东西会走却没有腿？", "什么东西每天都要转很多圈，却从不头晕？", "钟表"),
    ("什么东西越分越多？", "什么东西用钱买不到，却人人都想要？", "快乐"),
    ("什么狗不会叫？", "什么狗可以夹在面包里吃？", "热狗"),
    ("什么东西一说出来就没了？", "什么东西人们都说它是金子？", "沉默"),
    ("什么东西有脖子没有头？", "什么东西肚子大、嘴巴小，却只喝不吃？", "瓶子"),
    ("什么东西有齿却不能咬？", "什么东西每天都在你头上走来走去？", "梳子"),
    ("什么东西有嘴不会说话？", "什么东西肚里装满水，总是弯着腰给人倒？", "茶壶"),
    ("什么东西白天满，晚上空？", "什么东西总是成双成对，却从不说话？", "鞋子"),
    ("什么东西能装下整个世界？", "上边毛，下边毛，中间一颗黑葡萄（打人体一部位）", "眼睛"),
    ("麻屋子，红帐子，里面住着白胖子（打一食物）", "什么果子结在地底下？", "花生"),
    ("千条线，万条线，掉到水里看不见（打一自然现象）", "什么东西从天上掉下来却摔不坏？", "雨"),
    (
        "什么东西白天满，晚上空？",
        "两只小船各西东，十个客人坐当中，白天来回走，晚上停港中（打一物）",
        "鞋子",
    ),
    ("什么东西越削越短？", "什么东西穿着木头衣服，一张嘴就写字？", "铅笔"),
    ("哪一个字最大？", "太字少一点（打一字）", "大"),
    (
        "什么动物早上四条腿，中午两条腿，晚上三条腿？",
        "什么东西夏天穿得少，冬天穿得多？",
        "人",
    ),
]

# 歇后语 of xiehouyu.json with one punchline that are different sayings, judged one by one.
XIEHOUYU_DISTINCT = [
    ("四肢长胡子", "猴子戴手套", "毛手毛脚"),
    ("小河沟里撑船", "老天爷拄拐杖", "一竿子插到底"),
    ("兔子跟着马儿跑", "单车追汽车", "望尘莫及"),
    ("老虎吃田螺", "老鼠咬乌龟", "无从下口；难下口；无法下口"),
    ("二姑娘架老鹰", "蚂蚱驮砖头", "招架不住"),
    ("冷水浇头", "棉裤没有腿", "凉了半截"),
    ("四大金刚摇船", "鸭子回娘家", "大摇大摆"),
    ("喇叭当烟囱", "机关枪打炮弹", "不对口径"),
    ("寒暑表里的水银柱", "码头上的吊车", "能上能下"),
    ("六十岁尿床", "寿星看太医", "老毛病"),
    ("吸烟烧枕头", "放蚊入帐", "自找麻烦"),
    ("窗纱做衣裳", "身上背筛子", "浑身是窟窿"),
    ("坟头上的狗屎", "茅坑里的石头", "又臭又硬；臭硬"),
    ("射箭没靶子", "打枪不瞄准", "无的放矢"),
    ("狐狸窝里斗", "蚂蚁打群架", "自相残杀"),
    ("老虎咧嘴笑", "豺狼朝羊堆笑脸", "阴险歹毒"),
    ("海上泛舟", "草原上放牧", "漫无边际"),
    ("刀下的绵羊", "刀底下的豆腐", "任人宰割；随人宰割"),
    ("临老当和尚", "杨五郎削发", "半路出家"),
    ("土里埋金", "破麻袋装宝", "有内才（财）"),
    ("刘备借荆州", "诸葛亮草船借箭", "有借无还"),
    ("七十岁婆婆学绣花", "八十岁老翁学手艺", "老来发奋"),
    ("太监读圣旨", "道士念经", "照本宣科"),
    ("钉掌的敲耳朵", "马背上钉掌", "离题（蹄）太远；不贴题（蹄）"),
    ("乐队里敲破锣", "老鸦唱山歌", "不入调"),
    ("蚯蚓戴草帽", "雨浇泥菩萨", "土里土气；土气大"),
    ("大蒜剥皮", "开沟挖井", "层层深入"),
    ("瘸子担水", "瞎子上梯子", "一步步来"),
    ("戏台上的小卒", "马戏团的小丑", "走过场"),
    ("久旱得雨", "叫花子做皇上", "喜从天降"),
    ("爷俩赶集", "爷爷孙子拜年", "一大一小"),
    ("土地奶奶坐月子", "城隍娘娘坐月子", "养神"),
    ("丝线麻线混一团", "带刺的铁丝", "难缠"),
    ("三岁小孩贴对联", "脚戴帽子头顶靴", "上下不分"),
    ("羊圈里的骆驼", "黄豆地里的西瓜", "数它大"),
    ("宴席上吵架", "开会骂仗", "不欢而散"),
    ("屠夫家里的肥猪", "笼中的肥鸭", "早晚得杀"),
]

# 字谜: one glyph, other clues (two riddles).
ZIMI_DISTINCT = [
    ("人在门里（打一字）", "闭字去才添人（打一字）", "闪"),
    ("山上有山（打一字）", "屈字去尸（打一字）", "出"),
    ("一加一不是二（打一字）", "皇帝不白（打一字）", "王"),
    ("木字多一撇（打一字）", "秋天不见火（打一字）", "禾"),
    ("两人坐在土上（打一字）", "座字去广（打一字）", "坐"),
    ("十张口，一颗心（打一字）", "田下有心（打一字）", "思"),
    ("夕阳照在口上（打一字）", "铭字去金（打一字）", "名"),
    ("千里草（打一字）", "懂字没有心（打一字）", "董"),
    ("有水能养鱼，有土能种麦，有人不是你，有马跑天下（打一字）", "他字去人（打一字）", "也"),
    ("人有他大，天没他大（打一字）", "旦字去日（打一字）", "一"),
    ("口中有人（打一字）", "四字里面换个人（打一字）", "囚"),
]

# 字谜 near-identical in wording, other glyphs: two riddles.
ZIMI_OTHER_GLYPH = [
    (("门里有口（打一字）", "问"), ("门里有人（打一字）", "闪")),
    (("门里有日（打一字）", "间"), ("门里有木（打一字）", "闲")),
    (("门里有马（打一字）", "闯"), ("门里有耳（打一字）", "闻")),
    (("口中有人（打一字）", "囚"), ("口中有木（打一字）", "困")),
    (("口中有玉（打一字）", "国"), ("口中有大（打一字）", "因")),
    (("人靠木（打一字）", "休"), ("人靠山（打一字）", "仙")),
    (("女子（打一字）", "好"), ("女生（打一字）", "姓")),
    (("木字多一撇（打一字）", "禾"), ("木字多一横（打一字）", "未")),
]

# Brain teasers with different answers sharing only the template: two riddles.
TEMPLATE_DISTINCT = [
    (("什么东西越吹越大？", "气球"), ("什么东西越洗越小？", "肥皂")),
    (("什么狗不会叫？", "热狗"), ("什么马从来没人骑？", "河马")),
    (("什么猫不会抓老鼠？", "熊猫"), ("什么鸡从来不打鸣？", "母鸡")),
    (("什么鬼最讨人喜欢？", "机灵鬼"), ("什么鬼最让人讨厌？", "小气鬼")),
    (("什么人最喜欢下雨天？", "卖伞的人"), ("什么人最爱过年？", "小孩子")),
    (("哪种鱼一辈子都不游泳？", "咸鱼"), ("哪种花一辈子都不谢？", "纸花")),
    (("什么东西看得见摸不着？", "影子"), ("什么东西听得见摸不着？", "声音")),
    (("什么东西有脖子没有头？", "瓶子"), ("什么东西有头没有脖子？", "钉子")),
    (("什么山没有石头？", "冰山"), ("什么河没有水？", "银河")),
    (("什么东西越老越值钱？", "古董"), ("什么东西越新越值钱？", "钞票")),
]

# The same question (or one with a particle more) with another answer: listed for review.
CONFLICTS = [
    (("什么狗不会叫？", "热狗"), ("什么狗不会叫？", "画上的狗")),
    (("什么马从来没人骑？", "河马"), ("什么马从来没人骑？", "木马")),
    (("什么山没有石头？", "冰山"), ("什么山没有石头？", "人山")),
    (("什么蛋好看不能吃？", "脸蛋"), ("什么蛋好看不能吃？", "彩蛋")),
    (("什么东西有齿却不能咬？", "梳子"), ("什么东西有齿却不能咬？", "锯子")),
    (("什么东西越吹越大？", "气球"), ("什么东西越吹越大？", "牛皮")),
    (("什么人最喜欢下雨天？", "卖伞的人"), ("什么人最喜欢下雨天？", "农民")),
    (("什么鱼从来不游泳？", "咸鱼"), ("什么鱼从来不游泳呢？", "烤鱼")),
    (("什么东西会走却没有腿？", "钟表"), ("什么东西会走却没有腿？", "时间")),
]

# Bridge triples written by hand: B says what A says and what C says; A and C are two
# riddles (TEASER_DISTINCT).
BRIDGES = [
    ("什么东西越吹越大？", "什么东西越吹越大，一碰到针就爆？", "什么东西一碰到针就会爆？", "气球"),
    (
        "什么东西看得见摸不着？",
        "什么东西看得见摸不着，你走它也走？",
        "什么东西你走它也走，你停它也停？",
        "影子",
    ),
    (
        "什么东西会走却没有腿？",
        "什么东西没有腿却会走，每天转很多圈？",
        "什么东西每天都要转很多圈，却从不头晕？",
        "钟表",
    ),
    (
        "什么东西晴天缩起来，雨天张开？",
        "什么东西雨天张开，总替别人挨淋？",
        "什么东西总是替别人挨淋？",
        "雨伞",
    ),
    (
        "什么东西有脖子没有头？",
        "什么东西有脖子没有头，肚子大嘴巴小？",
        "什么东西肚子大、嘴巴小，却只喝不吃？",
        "瓶子",
    ),
    (
        "什么猫不会抓老鼠？",
        "什么猫不会抓老鼠，一辈子戴着墨镜？",
        "哪种动物一辈子都戴着墨镜？",
        "熊猫",
    ),
    (
        "什么东西有齿却不能咬？",
        "什么东西有齿不能咬，每天在你头上走来走去？",
        "什么东西每天都在你头上走来走去？",
        "梳子",
    ),
    (
        "什么东西有嘴不会说话？",
        "什么东西有嘴不会说话，总是弯着腰给人倒水？",
        "什么东西肚里装满水，总是弯着腰给人倒？",
        "茶壶",
    ),
    (
        "什么东西越分越多？",
        "什么东西越分越多，人人都想要？",
        "什么东西用钱买不到，却人人都想要？",
        "快乐",
    ),
    ("什么狗不会叫？", "什么狗不会叫，可以夹在面包里？", "什么狗可以夹在面包里吃？", "热狗"),
    ("土地奶奶坐月子", "土地娘娘坐月子", "城隍娘娘坐月子", "养神"),
    ("刀下的绵羊", "刀底下的绵羊", "刀底下的豆腐", "任人宰割；随人宰割"),
]


def qa(question: str, answer: str) -> dict:
    return {"question": question, "answer": answer}


def pairs(sets) -> list[tuple[str, str, dict, dict]]:
    """The labelled pairs of a held-out module `sets` (its TEASER_SAME, ..., CONFLICTS lists);
    fresh2_heldout.py uses it too."""
    out = []
    for group, label, name in (
        ("paraphrase_teaser", "same", "TEASER_SAME"),
        ("paraphrase_miyu", "same", "MIYU_SAME"),
        ("paraphrase_zimi", "same", "ZIMI_SAME"),
        ("paraphrase_xiehouyu", "same", "XIEHOUYU_SAME"),
        ("same_answer_teaser", "distinct", "TEASER_DISTINCT"),
        ("same_punchline_xiehouyu", "distinct", "XIEHOUYU_DISTINCT"),
        ("same_glyph_zimi", "distinct", "ZIMI_DISTINCT"),
    ):
        out += [(group, label, qa(a, x), qa(b, x)) for a, b, x in getattr(sets, name)]
    out += [("other_glyph_zimi", "distinct", qa(*a), qa(*b)) for a, b in sets.ZIMI_OTHER_GLYPH]
    out += [("template", "distinct", qa(*a), qa(*b)) for a, b in sets.TEMPLATE_DISTINCT]
    out += [("conflict", "conflict", qa(*a), qa(*b)) for a, b in sets.CONFLICTS]
    return out


def triples(bridges: list, rows: list) -> list[dict]:
    out = [
        {"group": "bridge_hand", "a": qa(a, x), "b": qa(b, x), "c": qa(c, x)}
        for a, b, c, x in bridges
    ]
    for row in rows:  # build_pairs.py's rule
        label, a, b = row["label"], row["a"], row["b"]
        if label == "distinct" and a["answer"] == b["answer"]:
            qa_, qc = a["question"], b["question"]
            bridge = qa_[: (len(qa_) + 1) // 2] + qc[len(qc) // 2 :]
            if bridge not in (qa_, qc):
                out.append({"group": "bridge_halves", "a": a, "b": qa(bridge, a["answer"]), "c": b})
    return out


def numbered(sets, half: str) -> tuple[list[dict], list[dict]]:
    """The pairs (each once) and triples of `sets` as rows of the half `half`."""
    rows, seen = [], set()
    for group, label, a, b in pairs(sets):
        key = json.dumps(sorted([a, b], key=json.dumps), ensure_ascii=False)
        assert key not in seen and a != b, key
        seen.add(key)
        rows.append({"n": len(rows), "half": half, "group": group, "label": label, "a": a, "b": b})
    tri = [{"n": k, "half": half, **t} for k, t in enumerate(triples(sets.BRIDGES, rows))]
    return rows, tri


def write(files: dict[str, list[dict]]) -> None:
    for name, items in files.items():
        text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items)
        (HERE / name).write_text(text, encoding="utf-8")


def _old_questions() -> set[str]:
    seen = set()
    for name in ("dedupe_pairs.jsonl", "dedupe_triples.jsonl"):
        for line in (HERE / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            seen |= {row[s]["question"] for s in "abc" if s in row}
    data = json.loads((REPO / "raw" / "brain_teasers.json").read_text(encoding="utf-8"))
    seen |= {d.get("instruction", "") + d.get("input", "") for d in data["data"]}
    return seen


def main() -> None:
    xiehouyu = json.loads((REPO.parent / "shared" / "data" / "xiehouyu.json").read_text("utf-8"))
    real = {(d["riddle"], d["answer"]) for d in xiehouyu}
    for a, _, x in XIEHOUYU_SAME[:-4]:
        assert (a, x) in real, (a, x)
    for a, b, x in XIEHOUYU_SAME[-4:] + XIEHOUYU_DISTINCT:
        assert (a, x) in real and (b, x) in real, (a, b, x)
    rows, tri = numbered(sys.modules[__name__], "fresh")
    old = _old_questions()
    reused = {r[s]["question"] for r in rows + tri for s in "abc" if s in r} & old
    if reused:
        sys.exit(f"questions of the old set or raw/: {sorted(reused)}")
    write({"dedupe_heldout.jsonl": rows, "dedupe_heldout_triples.jsonl": tri})
    print(f"{len(rows)} pairs, {len(tri)} triples")


def seen(half: str, own: str) -> tuple[set[str], set[str]]:
    """Match keys of the questions (also any string in tests/ but the builder `own`) and
    answers of every set but `half`, and of raw/: what a later set may not hold."""
    import ast
    import tempfile

    import polars as pl

    sys.path.insert(0, str(REPO))
    from curate.normalize import display, match_key
    from curate.stages.ingest import IngestConfig, ingest

    def key(text: str) -> str:
        return match_key(display(text))

    questions, answers = set(), set()
    for path in sorted(HERE.glob("*.jsonl")):
        if half in path.name:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            questions |= {key(row[s]["question"]) for s in "abc" if s in row}
            answers |= {key(row[s]["answer"]) for s in "abc" if s in row}
    for path in sorted((REPO / "tests").rglob("*.py")):
        if path.name == own:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                try:
                    questions.add(key(node.value))
                except UnicodeError:  # lone surrogates in a test of bad input
                    continue
    with tempfile.TemporaryDirectory() as tmp:
        ingest(IngestConfig(sources=(REPO / "raw",), processed=Path(tmp)))
        df = pl.read_parquet(Path(tmp) / "ingested.parquet")
    questions |= {key(q) for q in df["question"]}
    answers |= {key(a) for a in df["answer"]}
    return questions, answers


def build(sets, half: str, real_pairs: int) -> None:
    """The main() of a later set (module `sets`, `half` fresh2, fresh3 ...): check that its
    歇后语 are xiehouyu.json's (the first side of each XIEHOUYU_SAME pair; both sides of the
    last `real_pairs` and of XIEHOUYU_DISTINCT), that nothing of it is in another set, tests/
    or raw/ (`seen`), and write dedupe_<half>.jsonl and dedupe_<half>_triples.jsonl."""
    xiehouyu = json.loads((REPO.parent / "shared" / "data" / "xiehouyu.json").read_text("utf-8"))
    real = {(d["riddle"], d["answer"]) for d in xiehouyu}
    for a, _, x in sets.XIEHOUYU_SAME[:-real_pairs]:
        assert (a, x) in real, (a, x)
    for a, b, x in sets.XIEHOUYU_SAME[-real_pairs:] + sets.XIEHOUYU_DISTINCT:
        assert (a, x) in real and (b, x) in real, (a, b, x)
    rows, tri = numbered(sets, half)
    old_q, old_a = seen(half, Path(sets.__file__).name)
    from curate.normalize import display, match_key

    items = [r[s] for r in rows + tri for s in "abc" if s in r]
    reused = sorted({x["question"] for x in items if match_key(display(x["question"])) in old_q})
    reused += sorted({x["answer"] for x in items if match_key(display(x["answer"])) in old_a})
    if reused:
        sys.exit(f"questions or answers of the other sets, tests/ or raw/: {reused}")
    write({f"dedupe_{half}.jsonl": rows, f"dedupe_{half}_triples.jsonl": tri})
    print(f"{len(rows)} pairs, {len(tri)} triples")


if __name__ == "__main__":
    main()
