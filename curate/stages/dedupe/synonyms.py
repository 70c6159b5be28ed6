"""Words that name the same thing, put in one form before variant questions are compared.

Collections word one riddle with their own words: a saying's 耗子 is another's 老鼠, 王八 is
乌龟, 茅房 is 厕所, 打盹 is 打瞌睡; a character riddle's 太阳 is the 日 it spells, 树 is 木.
Character overlap cannot see that two such questions agree, so the content keys
(`keys.content_keys`) have each listed word replaced by the first word of its line (longest
word first where two start at one place: 老婆婆 is not 老婆 + 婆). Both sides of every pair
are rewritten alike. A replaced word no longer shares its characters with other words (屋子 ->
房子 would part it from 屋里, 屋外), so the lists leave out words whose characters mostly
live in other words.

The lists are ours, written for riddles: colloquial, dialect and literary names of the
people, animals and things sayings and brain teasers are about (`WORDS`; the figures of
sayings by the names xiehouyu.json gives them: 孔明 is 诸葛亮, 玉帝 玉皇大帝, 灶神 灶王爷),
and for 字谜 the words a clue uses for a component (`GLYPH_WORDS`, used on character riddles
only: elsewhere 太阳 is not 日; and there a doubled component is two of it, 日日 -> 二日 like
两个太阳 -> 二个日).
A line holds only words a reader would take for one another in a riddle;
words with a second common sense (头, 口 outside 字谜) are left out.

>>> import polars as pl
>>> canonical(pl.Series(["耗子嫁给花猫", "夜猫子打盹"])).to_list()
['老鼠嫁给花猫', '猫头鹰打瞌睡']
>>> canonical(pl.Series(["九个太阳", "一棵树下一张口"]), glyph=True).to_list()
['九个日', '一棵木下一张口']
"""

from __future__ import annotations

import functools
import re

import polars as pl

WORDS = """
乞丐 叫花子 叫化子 要饭的 讨饭的 讨饭人 要饭花子
郎中 大夫 医生
傻子 呆子 傻瓜 笨蛋 憨子 二愣子
瘸子 跛子 拐子 跛脚
瞎子 盲人 瞎眼
聋子 聋人
哑巴 哑子
秃子 秃头 癞头 癞痢头 光头
和尚 僧人 出家人
尼姑 姑子
光棍 单身汉 光棍汉 打光棍的
老婆 媳妇 妻子
老太婆 老婆婆 老太太 老奶奶
老头 老汉 老头子 老大爷 老爷爷
小孩 孩子 小孩子 娃娃 小娃娃 孩童 小家伙 小娃
爹 爸爸 父亲 老爹 爹爹
娘 妈妈 母亲 老娘 妈
姑娘 闺女 丫头 大姑娘 黄花闺女
媒婆 媒人 红娘 说媒的
厨子 厨师 大师傅
屠夫 屠户 杀猪的 杀猪匠
小偷 贼 扒手 窃贼 三只手 小贼
强盗 土匪 山大王
皇帝 皇上 万岁爷 天子
阎王 阎王爷 阎罗王 阎罗
县官 县太爷 知县 县令
算命的 算命先生
剃头匠 剃头的 理发师 理发匠 剃头师傅
老鼠 耗子 老耗子 鼠辈
乌龟 王八 龟 甲鱼
猫头鹰 夜猫子
狗熊 熊瞎子 黑熊
癞蛤蟆 蛤蟆 蟾蜍 癞哈蟆
青蛙 田鸡
麻雀 家雀 小麻雀
黄鼠狼 黄鼬
老虎 大虫
猴子 猢狲 猴儿 猴
驴 毛驴 驴子 叫驴
狗 狗子 犬 小狗
猪 肥猪 猪猡 老母猪
蚯蚓 曲蟮
知了 蝉
喜鹊 喜雀
蜘蛛 蛛蛛
蚂蚱 蝗虫
厕所 茅房 茅坑 茅厕 粪坑 毛房 茅缸
棺材 寿材 棺木 寿木
坟墓 陵墓 坟 坟头 坟地 墓
寺庙 庙 寺院 庙宇
戏台 戏台子
唱戏 演戏
打瞌睡 打盹 打盹儿 瞌睡
睡觉 困觉 睡大觉
照相 拍照 照像 拍照片 照相片
电扇 电风扇 风扇
脑袋 脑壳 脑瓜 脑瓜子 脑袋瓜
嘴 嘴巴 嘴皮子
肚子 肚皮
眼睛 眼珠 眼珠子 眼珠儿
鼻子 鼻梁 鼻梁子
屁股 腚 屁股蛋
汤圆 元宵 汤团
馒头 馍 馍馍
饺子 水饺 饺儿
玉米 苞米 苞谷
土豆 马铃薯 洋芋
西红柿 番茄
花生 落花生
藕 莲藕 莲菜
猪蹄 猪爪 猪脚
辣椒 辣子
自行车 脚踏车 单车
手电筒 电筒 手电
火柴 洋火
肥皂 胰子 洋碱
剪刀 剪子
钱 钞票 票子 铜钱
衣服 衣裳
被子 被窝 棉被 被褥
窗户 窗子
门槛 门坎
梳子 木梳
扫帚 笤帚 扫把
水缸 大缸
锅 铁锅 饭锅
筷子 箸
头发 青丝 发丝
蟋蟀 蛐蛐 蛐蛐儿 促织
鞭炮 爆竹 炮仗
打架 斗架 干架
脊梁 脊背 后背 脊梁骨
夫妻 两口子 老两口 夫妇 老夫妻
教堂 礼拜堂 耶稣堂
夏天 热天 大热天 三伏天 伏天 暑天 炎夏
冬天 冷天 大冷天 三九天 数九寒天 寒冬 寒冬腊月
早上 清早 早晨 清晨 大清早
半夜 深夜 半夜三更 三更半夜
太阳 日头
月亮 月儿 月牙
眼泪 泪水 泪珠
胳膊 手臂 臂膀 胳臂
钥匙 锁匙
鸭子 鸭
鹅 大鹅
公鸡 鸡公 大公鸡
母鸡 老母鸡 鸡婆
"""

# The figures of sayings: a name is kept and its line's first form added after it (孔明借东风 ->
# 孔明诸葛亮借东风), where replacing it would part a copy with the name mistyped (王鲇娘娘,
# 孔蛛明) from the characters it shares.
NAMES = """
诸葛亮 孔明 诸葛孔明
玉皇大帝 玉帝 玉皇
孙悟空 孙猴子 孙大圣 美猴王 齐天大圣 孙行者
猪八戒 八戒 猪悟能
唐僧 唐三藏 唐玄奘
沙僧 沙和尚
关公 关羽 关云长 关老爷 关二爷
张飞 张翼德
包公 包拯 包青天 包老爷 包黑子
土地爷 土地公 土地老儿 土地公公
灶王爷 灶王 灶神 灶君
龙王 龙王爷 老龙王
王母 王母娘娘
观音 观世音 观音菩萨 观音娘娘
如来佛 如来 如来佛祖
弥勒佛 弥勒 大肚弥勒
武大郎 武大
姜太公 姜子牙
二郎神 杨二郎 二郎爷 杨戬
李逵 黑旋风
铁拐李 李铁拐
"""

GLYPH_WORDS = """
日 太阳 日头 红日
月 月亮 月儿
林 树林
森 森林
木 树木 木头 大树 树 木材
石 石头 岩石
目 眼睛 眼 眼珠
口 嘴巴 嘴
火 火焰 火苗 大火
土 泥土 黄土 土地
山 山峰 大山 高山
女 女人 女子 妇女
田 田地
禾 禾苗
竹 竹子
草 小草 青草
雨 雨水
金 金子 黄金
刀 刀子
车 车子
衣 衣服 衣裳
米 大米 米粒
夕 夜晚 傍晚 晚上
二 两
"""
_DOUBLE = re.compile(r"(.)\1")


def canonical(texts: pl.Series, glyph: bool = False) -> pl.Series:
    """The texts with every listed word in its line's first form (`GLYPH_WORDS` too when
    `glyph`: character riddles)."""
    words, forms = _table(glyph)
    same = texts.str.replace_many(words, forms, leftmost=True)
    if not glyph:
        return same
    # A doubled component is two of it: 日日 is 两个太阳 (昌), 口口 两张口 (吕).
    return pl.Series(texts.name, [_DOUBLE.sub(r"二\1", t) for t in same.to_list()], pl.String)


@functools.cache
def _table(glyph: bool) -> tuple[list[str], list[str]]:
    lines = WORDS.split("\n") + (GLYPH_WORDS.split("\n") if glyph else [])
    # A line's first word maps to itself: 龟 must not match inside 乌龟.
    pairs = {w: line.split()[0] for line in lines if line.strip() for w in line.split()}
    for w, form in pairs.items():  # 嘴皮子 -> 嘴 -> 口 in a 字谜: the last line's form
        while pairs[form] != form:
            form = pairs[form]
        pairs[w] = form
    lines = [line.split() for line in NAMES.split("\n") if line.strip()]
    pairs |= {w: w + line[0] if w != line[0] else w for line in lines for w in line}
    # Leftmost-first matching takes the first listed pattern: longest first makes it longest.
    words = sorted(pairs, key=lambda w: (-len(w), w))
    return words, [pairs[w] for w in words]
