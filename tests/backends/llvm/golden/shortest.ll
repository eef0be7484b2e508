; _k1: out[x, z] min= W[x, z]  [loops x,z; threads split x]
; ModuleID = "tlc_k_b29d4e603ba3add7"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_b29d4e603ba3add7"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* %".4", i64* %".5") nounwind
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
  br label %"x.head"
x.head:
  %"x" = phi  i64 [%"int0", %"body"], [%".39", %"z.done"]
  %".16" = icmp slt i64 %"x", %"int1"
  br i1 %".16", label %"x.body", label %"x.done"
x.body:
  br label %"z.head"
x.done:
  ret void
z.head:
  %"z" = phi  i64 [%"int2", %"x.body"], [%".37", %"z.body"]
  %".19" = icmp slt i64 %"z", %"int3"
  br i1 %".19", label %"z.body", label %"z.done"
z.body:
  %".21" = add nsw i64 0, %"x"
  %".22" = mul nsw i64 %".21", %".12"
  %".23" = add nsw i64 0, %".22"
  %".24" = add nsw i64 0, %"z"
  %".25" = add nsw i64 %".23", %".24"
  %".26" = getelementptr inbounds double, double* %".1", i64 %".25"
  %".27" = load double, double* %".26"
  %".28" = add nsw i64 0, %"x"
  %".29" = mul nsw i64 %".28", %".14"
  %".30" = add nsw i64 0, %".29"
  %".31" = add nsw i64 0, %"z"
  %".32" = add nsw i64 %".30", %".31"
  %".33" = getelementptr inbounds double, double* %".3", i64 %".32"
  %".34" = load double, double* %".33"
  %".35" = call double @"llvm.minnum.f64"(double %".27", double %".34")
  store double %".35", double* %".26"
  %".37" = add nsw i64 %"z", 1
  br label %"z.head"
z.done:
  %".39" = add nsw i64 %"x", 1
  br label %"x.head"
}

declare double @"llvm.minnum.f64"(double %".1", double %".2")

; _k2: out[x, z] min= min[y]((Dist[x, y] + W[y, z]))  [loops x,z; rows along z; threads split x]
; ModuleID = "tlc_k_416e91e96fd4d7a1"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_416e91e96fd4d7a1"(double* noalias %".1", double* noalias %".2", double* noalias %".3", double* noalias %".4", double* %".5", i64* %".6") nounwind
{
entry:
  %"tile1" = alloca [32 x double]
  %"tile0" = alloca [32 x double]
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
  br label %"z.tile.head"
z.tile.head:
  %"z.tile" = phi  i64 [%"int2", %"body"], [%".196", %"x.block.done"]
  %".21" = icmp slt i64 %"z.tile", %"int3"
  br i1 %".21", label %"z.tile.body", label %"z.tile.done"
z.tile.body:
  %".23" = sub nsw i64 %"int3", %"z.tile"
  %".24" = icmp sge i64 %".23", 32
  %".25" = select  i1 %".24", i64 32, i64 %".23"
  br label %"x.block.head"
z.tile.done:
  ret void
x.block.head:
  %"x.block" = phi  i64 [%"int0", %"z.tile.body"], [%".194", %"x.block.body.endif"]
  %".27" = icmp slt i64 %"x.block", %"int1"
  br i1 %".27", label %"x.block.body", label %"x.block.done"
x.block.body:
  %".29" = add nsw i64 %"x.block", 2
  %".30" = icmp sle i64 %".29", %"int1"
  %".31" = and i1 %".24", %".30"
  br i1 %".31", label %"x.block.body.if", label %"x.block.body.else", !prof !0
x.block.done:
  %".196" = add nsw i64 %"z.tile", 32
  br label %"z.tile.head"
x.block.body.if:
  %".33" = add nsw i64 %"x.block", 1
  br label %"z.q.head"
x.block.body.else:
  %".130" = icmp slt i64 %".29", %"int1"
  %".131" = select  i1 %".130", i64 %".29", i64 %"int1"
  br label %"x.head"
x.block.body.endif:
  %".194" = add nsw i64 %"x.block", 2
  br label %"x.block.head"
z.q.head:
  %"z.q" = phi  i64 [0, %"x.block.body.if"], [%".42", %"z.q.body"]
  %".35" = icmp slt i64 %"z.q", 32
  br i1 %".35", label %"z.q.body", label %"z.q.done"
z.q.body:
  %".37" = add nsw i64 %"z.tile", %"z.q"
  %".38" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q"
  store double 0x7ff8000000000000, double* %".38"
  %".40" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"z.q"
  store double 0x7ff8000000000000, double* %".40"
  %".42" = add nsw i64 %"z.q", 1
  br label %"z.q.head"
z.q.done:
  br label %"y.head"
y.head:
  %"y" = phi  i64 [%"int4", %"z.q.done"], [%".93", %"z.q.done.1"]
  %".45" = icmp slt i64 %"y", %"int5"
  br i1 %".45", label %"y.body", label %"y.done"
y.body:
  br label %"z.q.head.1"
y.done:
  br label %"z.q.head.2"
z.q.head.1:
  %"z.q.1" = phi  i64 [0, %"y.body"], [%".91", %"z.q.body.1"]
  %".48" = icmp slt i64 %"z.q.1", 32
  br i1 %".48", label %"z.q.body.1", label %"z.q.done.1"
z.q.body.1:
  %".50" = add nsw i64 %"z.tile", %"z.q.1"
  %".51" = add nsw i64 0, %"x.block"
  %".52" = mul nsw i64 %".51", %".17"
  %".53" = add nsw i64 0, %".52"
  %".54" = add nsw i64 0, %"y"
  %".55" = add nsw i64 %".53", %".54"
  %".56" = getelementptr inbounds double, double* %".3", i64 %".55"
  %".57" = load double, double* %".56"
  %".58" = add nsw i64 0, %"y"
  %".59" = mul nsw i64 %".58", %".19"
  %".60" = add nsw i64 0, %".59"
  %".61" = add nsw i64 0, %".50"
  %".62" = add nsw i64 %".60", %".61"
  %".63" = getelementptr inbounds double, double* %".4", i64 %".62"
  %".64" = load double, double* %".63"
  %".65" = fadd double %".57", %".64"
  %".66" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.1"
  %".67" = load double, double* %".66"
  %".68" = call double @"llvm.minnum.f64"(double %".67", double %".65")
  %".69" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.1"
  store double %".68", double* %".69"
  %".71" = add nsw i64 0, %".33"
  %".72" = mul nsw i64 %".71", %".17"
  %".73" = add nsw i64 0, %".72"
  %".74" = add nsw i64 0, %"y"
  %".75" = add nsw i64 %".73", %".74"
  %".76" = getelementptr inbounds double, double* %".3", i64 %".75"
  %".77" = load double, double* %".76"
  %".78" = add nsw i64 0, %"y"
  %".79" = mul nsw i64 %".78", %".19"
  %".80" = add nsw i64 0, %".79"
  %".81" = add nsw i64 0, %".50"
  %".82" = add nsw i64 %".80", %".81"
  %".83" = getelementptr inbounds double, double* %".4", i64 %".82"
  %".84" = load double, double* %".83"
  %".85" = fadd double %".77", %".84"
  %".86" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"z.q.1"
  %".87" = load double, double* %".86"
  %".88" = call double @"llvm.minnum.f64"(double %".87", double %".85")
  %".89" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"z.q.1"
  store double %".88", double* %".89"
  %".91" = add nsw i64 %"z.q.1", 1
  br label %"z.q.head.1"
z.q.done.1:
  %".93" = add nsw i64 %"y", 1
  br label %"y.head"
z.q.head.2:
  %"z.q.2" = phi  i64 [0, %"y.done"], [%".110", %"z.q.body.2"]
  %".96" = icmp slt i64 %"z.q.2", 32
  br i1 %".96", label %"z.q.body.2", label %"z.q.done.2"
z.q.body.2:
  %".98" = add nsw i64 %"z.tile", %"z.q.2"
  %".99" = add nsw i64 0, %"x.block"
  %".100" = mul nsw i64 %".99", %".15"
  %".101" = add nsw i64 0, %".100"
  %".102" = add nsw i64 0, %".98"
  %".103" = add nsw i64 %".101", %".102"
  %".104" = getelementptr inbounds double, double* %".1", i64 %".103"
  %".105" = load double, double* %".104"
  %".106" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.2"
  %".107" = load double, double* %".106"
  %".108" = call double @"llvm.minnum.f64"(double %".105", double %".107")
  store double %".108", double* %".104"
  %".110" = add nsw i64 %"z.q.2", 1
  br label %"z.q.head.2"
z.q.done.2:
  br label %"z.q.head.3"
z.q.head.3:
  %"z.q.3" = phi  i64 [0, %"z.q.done.2"], [%".127", %"z.q.body.3"]
  %".113" = icmp slt i64 %"z.q.3", 32
  br i1 %".113", label %"z.q.body.3", label %"z.q.done.3"
z.q.body.3:
  %".115" = add nsw i64 %"z.tile", %"z.q.3"
  %".116" = add nsw i64 0, %".33"
  %".117" = mul nsw i64 %".116", %".15"
  %".118" = add nsw i64 0, %".117"
  %".119" = add nsw i64 0, %".115"
  %".120" = add nsw i64 %".118", %".119"
  %".121" = getelementptr inbounds double, double* %".1", i64 %".120"
  %".122" = load double, double* %".121"
  %".123" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"z.q.3"
  %".124" = load double, double* %".123"
  %".125" = call double @"llvm.minnum.f64"(double %".122", double %".124")
  store double %".125", double* %".121"
  %".127" = add nsw i64 %"z.q.3", 1
  br label %"z.q.head.3"
z.q.done.3:
  br label %"x.block.body.endif"
x.head:
  %"x" = phi  i64 [%"x.block", %"x.block.body.else"], [%".191", %"z.q.done.6"]
  %".133" = icmp slt i64 %"x", %".131"
  br i1 %".133", label %"x.body", label %"x.done"
x.body:
  br label %"z.q.head.4"
x.done:
  br label %"x.block.body.endif"
z.q.head.4:
  %"z.q.4" = phi  i64 [0, %"x.body"], [%".141", %"z.q.body.4"]
  %".136" = icmp slt i64 %"z.q.4", %".25"
  br i1 %".136", label %"z.q.body.4", label %"z.q.done.4"
z.q.body.4:
  %".138" = add nsw i64 %"z.tile", %"z.q.4"
  %".139" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.4"
  store double 0x7ff8000000000000, double* %".139"
  %".141" = add nsw i64 %"z.q.4", 1
  br label %"z.q.head.4"
z.q.done.4:
  br label %"y.head.1"
y.head.1:
  %"y.1" = phi  i64 [%"int4", %"z.q.done.4"], [%".172", %"z.q.done.5"]
  %".144" = icmp slt i64 %"y.1", %"int5"
  br i1 %".144", label %"y.body.1", label %"y.done.1"
y.body.1:
  br label %"z.q.head.5"
y.done.1:
  br label %"z.q.head.6"
z.q.head.5:
  %"z.q.5" = phi  i64 [0, %"y.body.1"], [%".170", %"z.q.body.5"]
  %".147" = icmp slt i64 %"z.q.5", %".25"
  br i1 %".147", label %"z.q.body.5", label %"z.q.done.5"
z.q.body.5:
  %".149" = add nsw i64 %"z.tile", %"z.q.5"
  %".150" = add nsw i64 0, %"x"
  %".151" = mul nsw i64 %".150", %".17"
  %".152" = add nsw i64 0, %".151"
  %".153" = add nsw i64 0, %"y.1"
  %".154" = add nsw i64 %".152", %".153"
  %".155" = getelementptr inbounds double, double* %".3", i64 %".154"
  %".156" = load double, double* %".155"
  %".157" = add nsw i64 0, %"y.1"
  %".158" = mul nsw i64 %".157", %".19"
  %".159" = add nsw i64 0, %".158"
  %".160" = add nsw i64 0, %".149"
  %".161" = add nsw i64 %".159", %".160"
  %".162" = getelementptr inbounds double, double* %".4", i64 %".161"
  %".163" = load double, double* %".162"
  %".164" = fadd double %".156", %".163"
  %".165" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.5"
  %".166" = load double, double* %".165"
  %".167" = call double @"llvm.minnum.f64"(double %".166", double %".164")
  %".168" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.5"
  store double %".167", double* %".168"
  %".170" = add nsw i64 %"z.q.5", 1
  br label %"z.q.head.5"
z.q.done.5:
  %".172" = add nsw i64 %"y.1", 1
  br label %"y.head.1"
z.q.head.6:
  %"z.q.6" = phi  i64 [0, %"y.done.1"], [%".189", %"z.q.body.6"]
  %".175" = icmp slt i64 %"z.q.6", %".25"
  br i1 %".175", label %"z.q.body.6", label %"z.q.done.6"
z.q.body.6:
  %".177" = add nsw i64 %"z.tile", %"z.q.6"
  %".178" = add nsw i64 0, %"x"
  %".179" = mul nsw i64 %".178", %".15"
  %".180" = add nsw i64 0, %".179"
  %".181" = add nsw i64 0, %".177"
  %".182" = add nsw i64 %".180", %".181"
  %".183" = getelementptr inbounds double, double* %".1", i64 %".182"
  %".184" = load double, double* %".183"
  %".185" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"z.q.6"
  %".186" = load double, double* %".185"
  %".187" = call double @"llvm.minnum.f64"(double %".184", double %".186")
  store double %".187", double* %".183"
  %".189" = add nsw i64 %"z.q.6", 1
  br label %"z.q.head.6"
z.q.done.6:
  %".191" = add nsw i64 %"x", 1
  br label %"x.head"
}

declare double @"llvm.minnum.f64"(double %".1", double %".2")

!0 = !{ !"branch_weights", i32 99, i32 1 }