; _k1: out[p, q] = softmax[q](sum[d]((Q[p, d] * K[q, d])))  [loops p,q; threads split p]
; ModuleID = "tlc_k_820c322993622121"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_820c322993622121"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
{
entry:
  %"acc.sum.1" = alloca double
  %"row.sum" = alloca double
  %"acc.sum" = alloca double
  %"row.max" = alloca double
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
  br label %"p.head"
p.head:
  %"p" = phi  i64 [%"int0", %"body"], [%".154", %"q.done"]
  %".21" = icmp slt i64 %"p", %"int1"
  br i1 %".21", label %"p.body", label %"p.done"
p.body:
  store double 0x7ff8000000000000, double* %"row.max"
  br label %"q.row.head"
p.done:
  ret void
q.row.head:
  %"q.row" = phi  i64 [%"int2", %"p.body"], [%".55", %"d.done"]
  %".25" = icmp slt i64 %"q.row", %"int3"
  br i1 %".25", label %"q.row.body", label %"q.row.done"
q.row.body:
  %".27" = load double, double* %"row.max"
  store double              0x0, double* %"acc.sum"
  br label %"d.head"
q.row.done:
  %".57" = load double, double* %"row.max"
  store double              0x0, double* %"row.sum"
  br label %"q.exp.head"
d.head:
  %"d" = phi  i64 [%"int4", %"q.row.body"], [%".50", %"d.body"]
  %".30" = icmp slt i64 %"d", %"int5"
  br i1 %".30", label %"d.body", label %"d.done"
d.body:
  %".32" = load double, double* %"acc.sum"
  %".33" = add nsw i64 0, %"p"
  %".34" = mul nsw i64 %".33", %".17"
  %".35" = add nsw i64 0, %".34"
  %".36" = add nsw i64 0, %"d"
  %".37" = add nsw i64 %".35", %".36"
  %".38" = getelementptr inbounds double, double* %".3", i64 %".37"
  %".39" = load double, double* %".38"
  %".40" = add nsw i64 0, %"q.row"
  %".41" = mul nsw i64 %".40", %".19"
  %".42" = add nsw i64 0, %".41"
  %".43" = add nsw i64 0, %"d"
  %".44" = add nsw i64 %".42", %".43"
  %".45" = getelementptr inbounds double, double* %".4", i64 %".44"
  %".46" = load double, double* %".45"
  %".47" = fmul double %".39", %".46"
  %".48" = fadd reassoc double %".32", %".47"
  store double %".48", double* %"acc.sum"
  %".50" = add nsw i64 %"d", 1
  br label %"d.head"
d.done:
  %".52" = load double, double* %"acc.sum"
  %".53" = call double @"llvm.maxnum.f64"(double %".27", double %".52")
  store double %".53", double* %"row.max"
  %".55" = add nsw i64 %"q.row", 1
  br label %"q.row.head"
q.exp.head:
  %"q.exp" = phi  i64 [%"int2", %"q.row.done"], [%".137", %"d.done.1"]
  %".60" = icmp slt i64 %"q.exp", %"int3"
  br i1 %".60", label %"q.exp.body", label %"q.exp.done"
q.exp.body:
  store double              0x0, double* %"acc.sum.1"
  br label %"d.head.1"
q.exp.done:
  %".139" = load double, double* %"row.sum"
  br label %"q.head"
d.head.1:
  %"d.1" = phi  i64 [%"int4", %"q.exp.body"], [%".84", %"d.body.1"]
  %".64" = icmp slt i64 %"d.1", %"int5"
  br i1 %".64", label %"d.body.1", label %"d.done.1"
d.body.1:
  %".66" = load double, double* %"acc.sum.1"
  %".67" = add nsw i64 0, %"p"
  %".68" = mul nsw i64 %".67", %".17"
  %".69" = add nsw i64 0, %".68"
  %".70" = add nsw i64 0, %"d.1"
  %".71" = add nsw i64 %".69", %".70"
  %".72" = getelementptr inbounds double, double* %".3", i64 %".71"
  %".73" = load double, double* %".72"
  %".74" = add nsw i64 0, %"q.exp"
  %".75" = mul nsw i64 %".74", %".19"
  %".76" = add nsw i64 0, %".75"
  %".77" = add nsw i64 0, %"d.1"
  %".78" = add nsw i64 %".76", %".77"
  %".79" = getelementptr inbounds double, double* %".4", i64 %".78"
  %".80" = load double, double* %".79"
  %".81" = fmul double %".73", %".80"
  %".82" = fadd reassoc double %".66", %".81"
  store double %".82", double* %"acc.sum.1"
  %".84" = add nsw i64 %"d.1", 1
  br label %"d.head.1"
d.done.1:
  %".86" = load double, double* %"acc.sum.1"
  %".87" = fsub double %".86", %".57"
  %".88" = call double @"llvm.minnum.f64"(double %".87", double 0x4086300000000000)
  %".89" = call double @"llvm.maxnum.f64"(double %".88", double 0xc087500000000000)
  %".90" = fmul double %".89", 0x3ff71547652b82fe
  %".91" = fadd double %".90", 0x4338000000000000
  %".92" = fsub double %".91", 0x4338000000000000
  %".93" = fmul double %".92", 0x3fe62e42fee00000
  %".94" = fsub double %".89", %".93"
  %".95" = fmul double %".92", 0x3dea39ef35793c76
  %".96" = fsub double %".94", %".95"
  %".97" = fmul double %".96", %".96"
  %".98" = call double @"llvm.fmuladd.f64"(double %".96", double 0x3fc5555555555555, double 0x3fe0000000000000)
  %".99" = call double @"llvm.fmuladd.f64"(double %".96", double 0x3f81111111111111, double 0x3fa5555555555555)
  %".100" = call double @"llvm.fmuladd.f64"(double %".96", double 0x3f2a01a01a01a01a, double 0x3f56c16c16c16c17)
  %".101" = call double @"llvm.fmuladd.f64"(double %".96", double 0x3ec71de3a556c734, double 0x3efa01a01a01a01a)
  %".102" = call double @"llvm.fmuladd.f64"(double %".96", double 0x3e5ae64567f544e4, double 0x3e927e4fb7789f5c)
  %".103" = call double @"llvm.fmuladd.f64"(double %".96", double 0x3de6124613a86d09, double 0x3e21eed8eff8d898)
  %".104" = call double @"llvm.fmuladd.f64"(double %".97", double %".99", double %".98")
  %".105" = call double @"llvm.fmuladd.f64"(double %".97", double %".101", double %".100")
  %".106" = call double @"llvm.fmuladd.f64"(double %".97", double %".103", double %".102")
  %".107" = fmul double %".97", %".97"
  %".108" = call double @"llvm.fmuladd.f64"(double %".107", double %".105", double %".104")
  %".109" = fmul double %".107", %".107"
  %".110" = call double @"llvm.fmuladd.f64"(double %".109", double %".106", double %".108")
  %".111" = call double @"llvm.fmuladd.f64"(double %".97", double %".110", double %".96")
  %".112" = fadd double 0x3ff0000000000000, %".111"
  %".113" = bitcast double %".91" to i64
  %".114" = sub i64 %".113", 4843621399236968448
  %".115" = ashr i64 %".114", 1
  %".116" = add i64 %".115", 1023
  %".117" = shl i64 %".116", 52
  %".118" = bitcast i64 %".117" to double
  %".119" = fmul double %".112", %".118"
  %".120" = sub i64 %".114", %".115"
  %".121" = add i64 %".120", 1023
  %".122" = shl i64 %".121", 52
  %".123" = bitcast i64 %".122" to double
  %".124" = fmul double %".119", %".123"
  %".125" = fcmp uno double %".87", %".87"
  %".126" = select  i1 %".125", double %".87", double %".124"
  %".127" = add nsw i64 0, %"p"
  %".128" = mul nsw i64 %".127", %".15"
  %".129" = add nsw i64 0, %".128"
  %".130" = add nsw i64 0, %"q.exp"
  %".131" = add nsw i64 %".129", %".130"
  %".132" = getelementptr inbounds double, double* %".1", i64 %".131"
  store double %".126", double* %".132"
  %".134" = load double, double* %"row.sum"
  %".135" = fadd reassoc double %".134", %".126"
  store double %".135", double* %"row.sum"
  %".137" = add nsw i64 %"q.exp", 1
  br label %"q.exp.head"
q.head:
  %"q" = phi  i64 [%"int2", %"q.exp.done"], [%".152", %"q.body"]
  %".141" = icmp slt i64 %"q", %"int3"
  br i1 %".141", label %"q.body", label %"q.done"
q.body:
  %".143" = add nsw i64 0, %"p"
  %".144" = mul nsw i64 %".143", %".15"
  %".145" = add nsw i64 0, %".144"
  %".146" = add nsw i64 0, %"q"
  %".147" = add nsw i64 %".145", %".146"
  %".148" = getelementptr inbounds double, double* %".1", i64 %".147"
  %".149" = load double, double* %".148"
  %".150" = fdiv double %".149", %".139"
  store double %".150", double* %".148"
  %".152" = add nsw i64 %"q", 1
  br label %"q.head"
q.done:
  %".154" = add nsw i64 %"p", 1
  br label %"p.head"
}

declare double @"llvm.maxnum.f64"(double %".1", double %".2")

declare double @"llvm.minnum.f64"(double %".1", double %".2")

declare double @"llvm.fmuladd.f64"(double %".1", double %".2", double %".3")
