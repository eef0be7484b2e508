; _k1: out[i2, i0] = sum[i1]((W1[i0, i1] * X[i2, i1]))  [loops i2,i0; threads split i2]
; ModuleID = "tlc_k_69c743aa684cf5dc"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_69c743aa684cf5dc"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
{
entry:
  %"acc.sum" = alloca double
  br label %"body"
body:
  %".8" = getelementptr inbounds i64, i64* %".6", i64 0
  %"int0" = load i64, i64* %".8"
  %".9" = getelementptr inbounds i64, i64* %".6", i64 1
  %"int1" = load i64, i64* %".9"
  %".10" = getelementptr inbounds i64, i64* %".6", i64 2
  %"int2" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".6", i64 3
  %"int3" = load i64, i64* %".11"
  %".12" = getelementptr inbounds i64, i64* %".6", i64 4
  %"int4" = load i64, i64* %".12"
  %".13" = getelementptr inbounds i64, i64* %".6", i64 5
  %"int5" = load i64, i64* %".13"
  %".14" = getelementptr inbounds i64, i64* %".6", i64 7
  %"int7" = load i64, i64* %".14"
  %".15" = mul nsw i64 1, %"int7"
  %".16" = getelementptr inbounds i64, i64* %".6", i64 9
  %"int9" = load i64, i64* %".16"
  %".17" = mul nsw i64 1, %"int9"
  %".18" = getelementptr inbounds i64, i64* %".6", i64 11
  %"int11" = load i64, i64* %".18"
  %".19" = mul nsw i64 1, %"int11"
  br label %"i2.head"
i2.head:
  %"i2" = phi  i64 [%"int0", %"body"], [%".60", %"i0.done"]
  %".21" = icmp slt i64 %"i2", %"int1"
  br i1 %".21", label %"i2.body", label %"i2.done"
i2.body:
  br label %"i0.head"
i2.done:
  ret void
i0.head:
  %"i0" = phi  i64 [%"int2", %"i2.body"], [%".58", %"i1.done"]
  %".24" = icmp slt i64 %"i0", %"int3"
  br i1 %".24", label %"i0.body", label %"i0.done"
i0.body:
  %".26" = add nsw i64 0, %"i2"
  %".27" = mul nsw i64 %".26", %".15"
  %".28" = add nsw i64 0, %".27"
  %".29" = add nsw i64 0, %"i0"
  %".30" = add nsw i64 %".28", %".29"
  %".31" = getelementptr inbounds double, double* %".1", i64 %".30"
  store double              0x0, double* %"acc.sum"
  br label %"i1.head"
i0.done:
  %".60" = add nsw i64 %"i2", 1
  br label %"i2.head"
i1.head:
  %"i1" = phi  i64 [%"int4", %"i0.body"], [%".54", %"i1.body"]
  %".34" = icmp slt i64 %"i1", %"int5"
  br i1 %".34", label %"i1.body", label %"i1.done"
i1.body:
  %".36" = load double, double* %"acc.sum"
  %".37" = add nsw i64 0, %"i0"
  %".38" = mul nsw i64 %".37", %".17"
  %".39" = add nsw i64 0, %".38"
  %".40" = add nsw i64 0, %"i1"
  %".41" = add nsw i64 %".39", %".40"
  %".42" = getelementptr inbounds double, double* %".3", i64 %".41"
  %".43" = load double, double* %".42"
  %".44" = add nsw i64 0, %"i2"
  %".45" = mul nsw i64 %".44", %".19"
  %".46" = add nsw i64 0, %".45"
  %".47" = add nsw i64 0, %"i1"
  %".48" = add nsw i64 %".46", %".47"
  %".49" = getelementptr inbounds double, double* %".4", i64 %".48"
  %".50" = load double, double* %".49"
  %".51" = fmul double %".43", %".50"
  %".52" = fadd reassoc double %".36", %".51"
  store double %".52", double* %"acc.sum"
  %".54" = add nsw i64 %"i1", 1
  br label %"i1.head"
i1.done:
  %".56" = load double, double* %"acc.sum"
  store double %".56", double* %".31"
  %".58" = add nsw i64 %"i0", 1
  br label %"i0.head"
}

; _k2: out[b, i] = (sig(_cse1[b, i]) * p0)  [loops b,i; threads split b]
; ModuleID = "tlc_k_669eaadcd4651238"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_669eaadcd4651238"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* %".4", i64* %".5") nounwind
{
entry:
  br label %"body"
body:
  %".7" = getelementptr inbounds i64, i64* %".5", i64 0
  %"int0" = load i64, i64* %".7"
  %".8" = getelementptr inbounds i64, i64* %".5", i64 1
  %"int1" = load i64, i64* %".8"
  %".9" = getelementptr inbounds i64, i64* %".5", i64 2
  %"int2" = load i64, i64* %".9"
  %".10" = getelementptr inbounds i64, i64* %".5", i64 3
  %"int3" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".5", i64 5
  %"int5" = load i64, i64* %".11"
  %".12" = mul nsw i64 1, %"int5"
  %".13" = getelementptr inbounds i64, i64* %".5", i64 7
  %"int7" = load i64, i64* %".13"
  %".14" = mul nsw i64 1, %"int7"
  br label %"b.head"
b.head:
  %"b" = phi  i64 [%"int0", %"body"], [%".86", %"i.done"]
  %".16" = icmp slt i64 %"b", %"int1"
  br i1 %".16", label %"b.body", label %"b.done"
b.body:
  br label %"i.head"
b.done:
  ret void
i.head:
  %"i" = phi  i64 [%"int2", %"b.body"], [%".84", %"i.body"]
  %".19" = icmp slt i64 %"i", %"int3"
  br i1 %".19", label %"i.body", label %"i.done"
i.body:
  %".21" = add nsw i64 0, %"b"
  %".22" = mul nsw i64 %".21", %".12"
  %".23" = add nsw i64 0, %".22"
  %".24" = add nsw i64 0, %"i"
  %".25" = add nsw i64 %".23", %".24"
  %".26" = getelementptr inbounds double, double* %".1", i64 %".25"
  %".27" = add nsw i64 0, %"b"
  %".28" = mul nsw i64 %".27", %".14"
  %".29" = add nsw i64 0, %".28"
  %".30" = add nsw i64 0, %"i"
  %".31" = add nsw i64 %".29", %".30"
  %".32" = getelementptr inbounds double, double* %".3", i64 %".31"
  %".33" = load double, double* %".32"
  %".34" = call double @"llvm.fabs.f64"(double %".33")
  %".35" = fneg double %".34"
  %".36" = call double @"llvm.minnum.f64"(double %".35", double 0x4086300000000000)
  %".37" = call double @"llvm.maxnum.f64"(double %".36", double 0xc087500000000000)
  %".38" = fmul double %".37", 0x3ff71547652b82fe
  %".39" = fadd double %".38", 0x4338000000000000
  %".40" = fsub double %".39", 0x4338000000000000
  %".41" = fmul double %".40", 0x3fe62e42fee00000
  %".42" = fsub double %".37", %".41"
  %".43" = fmul double %".40", 0x3dea39ef35793c76
  %".44" = fsub double %".42", %".43"
  %".45" = fmul double %".44", %".44"
  %".46" = call double @"llvm.fmuladd.f64"(double %".44", double 0x3fc5555555555555, double 0x3fe0000000000000)
  %".47" = call double @"llvm.fmuladd.f64"(double %".44", double 0x3f81111111111111, double 0x3fa5555555555555)
  %".48" = call double @"llvm.fmuladd.f64"(double %".44", double 0x3f2a01a01a01a01a, double 0x3f56c16c16c16c17)
  %".49" = call double @"llvm.fmuladd.f64"(double %".44", double 0x3ec71de3a556c734, double 0x3efa01a01a01a01a)
  %".50" = call double @"llvm.fmuladd.f64"(double %".44", double 0x3e5ae64567f544e4, double 0x3e927e4fb7789f5c)
  %".51" = call double @"llvm.fmuladd.f64"(double %".44", double 0x3de6124613a86d09, double 0x3e21eed8eff8d898)
  %".52" = call double @"llvm.fmuladd.f64"(double %".45", double %".47", double %".46")
  %".53" = call double @"llvm.fmuladd.f64"(double %".45", double %".49", double %".48")
  %".54" = call double @"llvm.fmuladd.f64"(double %".45", double %".51", double %".50")
  %".55" = fmul double %".45", %".45"
  %".56" = call double @"llvm.fmuladd.f64"(double %".55", double %".53", double %".52")
  %".57" = fmul double %".55", %".55"
  %".58" = call double @"llvm.fmuladd.f64"(double %".57", double %".54", double %".56")
  %".59" = call double @"llvm.fmuladd.f64"(double %".45", double %".58", double %".44")
  %".60" = fadd double 0x3ff0000000000000, %".59"
  %".61" = bitcast double %".39" to i64
  %".62" = sub i64 %".61", 4843621399236968448
  %".63" = ashr i64 %".62", 1
  %".64" = add i64 %".63", 1023
  %".65" = shl i64 %".64", 52
  %".66" = bitcast i64 %".65" to double
  %".67" = fmul double %".60", %".66"
  %".68" = sub i64 %".62", %".63"
  %".69" = add i64 %".68", 1023
  %".70" = shl i64 %".69", 52
  %".71" = bitcast i64 %".70" to double
  %".72" = fmul double %".67", %".71"
  %".73" = fcmp uno double %".35", %".35"
  %".74" = select  i1 %".73", double %".35", double %".72"
  %".75" = fadd double 0x3ff0000000000000, %".74"
  %".76" = fcmp oge double %".33",              0x0
  %".77" = fdiv double 0x3ff0000000000000, %".75"
  %".78" = fdiv double %".74", %".75"
  %".79" = select  i1 %".76", double %".77", double %".78"
  %".80" = getelementptr inbounds double, double* %".4", i64 0
  %".81" = load double, double* %".80"
  %".82" = fmul double %".79", %".81"
  store double %".82", double* %".26"
  %".84" = add nsw i64 %"i", 1
  br label %"i.head"
i.done:
  %".86" = add nsw i64 %"b", 1
  br label %"b.head"
}

declare double @"llvm.fabs.f64"(double %".1")

declare double @"llvm.minnum.f64"(double %".1", double %".2")

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

declare double @"llvm.fmuladd.f64"(double %".1", double %".2", double %".3")

; _k3: out[b, k] = sig((sum[i]((W2[k, i] * relu((_cse1[b, i] + B1[i])))) + B2[k]))  [loops b,k; threads split b]
; ModuleID = "tlc_k_78765177bbb7f2f2"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_78765177bbb7f2f2"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* noalias %".5", double* noalias %".6", double* %".7", i64* %".8") nounwind
{
entry:
  %"acc.sum" = alloca double
  br label %"body"
body:
  %".10" = getelementptr inbounds i64, i64* %".8", i64 0
  %"int0" = load i64, i64* %".10"
  %".11" = getelementptr inbounds i64, i64* %".8", i64 1
  %"int1" = load i64, i64* %".11"
  %".12" = getelementptr inbounds i64, i64* %".8", i64 2
  %"int2" = load i64, i64* %".12"
  %".13" = getelementptr inbounds i64, i64* %".8", i64 3
  %"int3" = load i64, i64* %".13"
  %".14" = getelementptr inbounds i64, i64* %".8", i64 4
  %"int4" = load i64, i64* %".14"
  %".15" = getelementptr inbounds i64, i64* %".8", i64 5
  %"int5" = load i64, i64* %".15"
  %".16" = getelementptr inbounds i64, i64* %".8", i64 7
  %"int7" = load i64, i64* %".16"
  %".17" = mul nsw i64 1, %"int7"
  %".18" = getelementptr inbounds i64, i64* %".8", i64 9
  %"int9" = load i64, i64* %".18"
  %".19" = mul nsw i64 1, %"int9"
  %".20" = getelementptr inbounds i64, i64* %".8", i64 11
  %"int11" = load i64, i64* %".20"
  %".21" = mul nsw i64 1, %"int11"
  br label %"b.head"
b.head:
  %"b" = phi  i64 [%"int0", %"body"], [%".120", %"k.done"]
  %".23" = icmp slt i64 %"b", %"int1"
  br i1 %".23", label %"b.body", label %"b.done"
b.body:
  br label %"k.head"
b.done:
  ret void
k.head:
  %"k" = phi  i64 [%"int2", %"b.body"], [%".118", %"i.done"]
  %".26" = icmp slt i64 %"k", %"int3"
  br i1 %".26", label %"k.body", label %"k.done"
k.body:
  %".28" = add nsw i64 0, %"b"
  %".29" = mul nsw i64 %".28", %".17"
  %".30" = add nsw i64 0, %".29"
  %".31" = add nsw i64 0, %"k"
  %".32" = add nsw i64 %".30", %".31"
  %".33" = getelementptr inbounds double, double* %".1", i64 %".32"
  store double              0x0, double* %"acc.sum"
  br label %"i.head"
k.done:
  %".120" = add nsw i64 %"b", 1
  br label %"b.head"
i.head:
  %"i" = phi  i64 [%"int4", %"k.body"], [%".63", %"i.body"]
  %".36" = icmp slt i64 %"i", %"int5"
  br i1 %".36", label %"i.body", label %"i.done"
i.body:
  %".38" = load double, double* %"acc.sum"
  %".39" = add nsw i64 0, %"k"
  %".40" = mul nsw i64 %".39", %".19"
  %".41" = add nsw i64 0, %".40"
  %".42" = add nsw i64 0, %"i"
  %".43" = add nsw i64 %".41", %".42"
  %".44" = getelementptr inbounds double, double* %".3", i64 %".43"
  %".45" = load double, double* %".44"
  %".46" = add nsw i64 0, %"b"
  %".47" = mul nsw i64 %".46", %".21"
  %".48" = add nsw i64 0, %".47"
  %".49" = add nsw i64 0, %"i"
  %".50" = add nsw i64 %".48", %".49"
  %".51" = getelementptr inbounds double, double* %".4", i64 %".50"
  %".52" = load double, double* %".51"
  %".53" = add nsw i64 0, %"i"
  %".54" = add nsw i64 0, %".53"
  %".55" = getelementptr inbounds double, double* %".5", i64 %".54"
  %".56" = load double, double* %".55"
  %".57" = fadd double %".52", %".56"
  %".58" = fcmp ugt double %".57",              0x0
  %".59" = select  i1 %".58", double %".57", double              0x0
  %".60" = fmul double %".45", %".59"
  %".61" = fadd reassoc double %".38", %".60"
  store double %".61", double* %"acc.sum"
  %".63" = add nsw i64 %"i", 1
  br label %"i.head"
i.done:
  %".65" = load double, double* %"acc.sum"
  %".66" = add nsw i64 0, %"k"
  %".67" = add nsw i64 0, %".66"
  %".68" = getelementptr inbounds double, double* %".6", i64 %".67"
  %".69" = load double, double* %".68"
  %".70" = fadd double %".65", %".69"
  %".71" = call double @"llvm.fabs.f64"(double %".70")
  %".72" = fneg double %".71"
  %".73" = call double @"llvm.minnum.f64"(double %".72", double 0x4086300000000000)
  %".74" = call double @"llvm.maxnum.f64"(double %".73", double 0xc087500000000000)
  %".75" = fmul double %".74", 0x3ff71547652b82fe
  %".76" = fadd double %".75", 0x4338000000000000
  %".77" = fsub double %".76", 0x4338000000000000
  %".78" = fmul double %".77", 0x3fe62e42fee00000
  %".79" = fsub double %".74", %".78"
  %".80" = fmul double %".77", 0x3dea39ef35793c76
  %".81" = fsub double %".79", %".80"
  %".82" = fmul double %".81", %".81"
  %".83" = call double @"llvm.fmuladd.f64"(double %".81", double 0x3fc5555555555555, double 0x3fe0000000000000)
  %".84" = call double @"llvm.fmuladd.f64"(double %".81", double 0x3f81111111111111, double 0x3fa5555555555555)
  %".85" = call double @"llvm.fmuladd.f64"(double %".81", double 0x3f2a01a01a01a01a, double 0x3f56c16c16c16c17)
  %".86" = call double @"llvm.fmuladd.f64"(double %".81", double 0x3ec71de3a556c734, double 0x3efa01a01a01a01a)
  %".87" = call double @"llvm.fmuladd.f64"(double %".81", double 0x3e5ae64567f544e4, double 0x3e927e4fb7789f5c)
  %".88" = call double @"llvm.fmuladd.f64"(double %".81", double 0x3de6124613a86d09, double 0x3e21eed8eff8d898)
  %".89" = call double @"llvm.fmuladd.f64"(double %".82", double %".84", double %".83")
  %".90" = call double @"llvm.fmuladd.f64"(double %".82", double %".86", double %".85")
  %".91" = call double @"llvm.fmuladd.f64"(double %".82", double %".88", double %".87")
  %".92" = fmul double %".82", %".82"
  %".93" = call double @"llvm.fmuladd.f64"(double %".92", double %".90", double %".89")
  %".94" = fmul double %".92", %".92"
  %".95" = call double @"llvm.fmuladd.f64"(double %".94", double %".91", double %".93")
  %".96" = call double @"llvm.fmuladd.f64"(double %".82", double %".95", double %".81")
  %".97" = fadd double 0x3ff0000000000000, %".96"
  %".98" = bitcast double %".76" to i64
  %".99" = sub i64 %".98", 4843621399236968448
  %".100" = ashr i64 %".99", 1
  %".101" = add i64 %".100", 1023
  %".102" = shl i64 %".101", 52
  %".103" = bitcast i64 %".102" to double
  %".104" = fmul double %".97", %".103"
  %".105" = sub i64 %".99", %".100"
  %".106" = add i64 %".105", 1023
  %".107" = shl i64 %".106", 52
  %".108" = bitcast i64 %".107" to double
  %".109" = fmul double %".104", %".108"
  %".110" = fcmp uno double %".72", %".72"
  %".111" = select  i1 %".110", double %".72", double %".109"
  %".112" = fadd double 0x3ff0000000000000, %".111"
  %".113" = fcmp oge double %".70",              0x0
  %".114" = fdiv double 0x3ff0000000000000, %".112"
  %".115" = fdiv double %".111", %".112"
  %".116" = select  i1 %".113", double %".114", double %".115"
  store double %".116", double* %".33"
  %".118" = add nsw i64 %"k", 1
  br label %"k.head"
}

declare double @"llvm.fabs.f64"(double %".1")

declare double @"llvm.minnum.f64"(double %".1", double %".2")

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

declare double @"llvm.fmuladd.f64"(double %".1", double %".2", double %".3")
