import XCertProto

/// The indicator table of 003 (附表: 试点工作考核自评表), 7 first-level and 33
/// second-level indicators, as the default template of a year's scheme. The seed gives
/// no points: these maxima (100 points, plus 8 bonus points) and the computed items'
/// thresholds are a starting point the province edits before publishing.
enum DefaultScheme {
    static var indicators: [Xcert_Assessment_V1_Indicator] {
        let targets = "1. 年度目标完成情况"
        let mechanism = "2. 专项工作机制建设情况"
        let training = "3. 人才培养情况"
        let reform = "4. 三教改革推进情况"
        let courses = "5. 开展高质量培训情况"
        let office = "6. 配合省1+X推进办工作情况"
        let bonus = "7. 特色加分项目"
        return [
            self.rate("1-1", targets, "年度报考率", 60, .registrationRate, low: 5000, high: 9000),
            self.rate("1-2", targets, "年度参考率", 60, .participationRate, low: 8000, high: 10_000),
            self.rate("1-3", targets, "平均通过率", 60, .passRate, low: 5000, high: 9000),
            self.rate("1-4-1", targets, "考核费用支付时间", 40, .feesPaidOnTime, low: 5000, high: 10_000),
            self.rate("1-4-2", targets, "考核费用支付金额", 40, .feesPaidShare, low: 5000, high: 10_000),
            self.count("1-5", targets, "当年新增考核站点", 40, .newSites, perUnit: 20),
            self.manual("2-1", mechanism, "明确专职部门负责校内1+X推进工作", 40),
            self.manual("2-2", mechanism, "新增、完善专项管理制度", 30),
            self.manual("2-3", mechanism, "教师激励制度制定及落实", 30),
            self.manual("3-1", training, "新增或完善基于证书标准的课程标准", 50),
            self.manual("3-2", training, "更新完善基于证书标准的人才培养方案", 50),
            self.manual("3-3", training, "试点专业开展成果转换及学分认定工作", 50),
            self.rate("4-1", reform, "各证书均派教师参训取证", 40, .certifiedTraining, low: 0, high: 10_000),
            self.count("4-2", reform, "新增1+X种子师资等称号", 30, .seedTeachers, perUnit: 10),
            self.manual("4-3", reform, "牵头参与1+X相关标准修订", 30),
            self.manual("4-4", reform, "编写1+X教材", 40),
            self.manual("4-5", reform, "1+X课题研究", 30),
            self.manual("4-6", reform, "1+X典型案例", 30),
            self.manual("5-1", courses, "当年承办区域师资培训班", 40),
            self.manual("5-2", courses, "参与1+X师资国培项目", 30),
            self.manual("5-3", courses, "开展社会培训", 30),
            self.manual("6-1", office, "明确并稳定专职人员对接省1+X推进办", 30),
            self.count("6-2", office, "证书联盟牵头院校作用发挥", 60, .allianceLeads, perUnit: 30),
            self.rate("6-3", office, "双周报报送质量", 30, .periodicReports, low: 5000, high: 10_000),
            self.manual("6-4", office, "其他工作", 30),
        ]
            + [
                ("7-1", "开展校际合作"), ("7-2", "国家规划教材"), ("7-3", "教学成果奖"), ("7-4", "1+X教师团队"),
                ("7-5", "1+X专项竞赛"), ("7-6", "1+X宣传工作"), ("7-7", "推进产教融合、校企合作"), ("7-8", "参与本土培训评价组织申报及推广工作"),
            ].map { code, name in
                var indicator = self.manual(code, bonus, name, 10)
                indicator.bonus = true
                return indicator
            }
    }

    private static func manual(_ code: String, _ firstLevel: String, _ name: String, _ maxTenths: Int32) -> Xcert_Assessment_V1_Indicator {
        var indicator = Xcert_Assessment_V1_Indicator()
        indicator.code = code
        indicator.firstLevel = firstLevel
        indicator.name = name
        indicator.maxPointsTenths = maxTenths
        indicator.kind = .manual
        return indicator
    }

    private static func rate(
        _ code: String, _ firstLevel: String, _ name: String, _ maxTenths: Int32, _ source: Xcert_Assessment_V1_MeasureSource, low: Int32,
        high: Int32
    ) -> Xcert_Assessment_V1_Indicator {
        var indicator = self.manual(code, firstLevel, name, maxTenths)
        indicator.kind = .computed
        indicator.source = source
        indicator.rateRule.lowBasisPoints = low
        indicator.rateRule.highBasisPoints = high
        return indicator
    }

    private static func count(
        _ code: String, _ firstLevel: String, _ name: String, _ maxTenths: Int32, _ source: Xcert_Assessment_V1_MeasureSource,
        perUnit: Int32
    ) -> Xcert_Assessment_V1_Indicator {
        var indicator = self.manual(code, firstLevel, name, maxTenths)
        indicator.kind = .computed
        indicator.source = source
        indicator.countRule.pointsTenthsPerUnit = perUnit
        return indicator
    }
}
