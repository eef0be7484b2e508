; _k1: out[i, (t+1)%2] = tanh((sum[j]((W[i, j] * State[j, (t)%2])) + sum[k]((U[i, k] * In[k, t]))))  [loops i,t; rows along t; threads split i]
; ModuleID = "tlc_k_c45812dfa57f0f0d"
target triple = "unknown-unknown-unknown"
target datalayout = ""

define void @"tlc_k_c45812dfa57f0f0d"(double* %".1", double* noalias %".2", double* noalias %".3", double* %".4", double* noalias %".5", double* noalias %".6", double* %".7", i64* %".8") nounwind
{
entry:
  %"acc.sum.2" = alloca double
  %"acc.sum.1" = alloca double
  %"acc.sum" = alloca double
  %"tile1" = alloca [32 x double]
  %"tile0" = alloca [32 x double]
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
  %".16" = getelementptr inbounds i64, i64* %".8", i64 6
  %"int6" = load i64, i64* %".16"
  %".17" = getelementptr inbounds i64, i64* %".8", i64 7
  %"int7" = load i64, i64* %".17"
  %".18" = getelementptr inbounds i64, i64* %".8", i64 9
  %"int9" = load i64, i64* %".18"
  %".19" = mul nsw i64 1, %"int9"
  %".20" = getelementptr inbounds i64, i64* %".8", i64 11
  %"int11" = load i64, i64* %".20"
  %".21" = mul nsw i64 1, %"int11"
  %".22" = getelementptr inbounds i64, i64* %".8", i64 13
  %"int13" = load i64, i64* %".22"
  %".23" = mul nsw i64 1, %"int13"
  %".24" = getelementptr inbounds i64, i64* %".8", i64 15
  %"int15" = load i64, i64* %".24"
  %".25" = mul nsw i64 1, %"int15"
  %".26" = getelementptr inbounds i64, i64* %".8", i64 17
  %"int17" = load i64, i64* %".26"
  %".27" = mul nsw i64 1, %"int17"
  br label %"t.tile.head"
t.tile.head:
  %"t.tile" = phi  i64 [%"int2", %"body"], [%".285", %"i.block.done"]
  %".29" = icmp slt i64 %"t.tile", %"int3"
  br i1 %".29", label %"t.tile.body", label %"t.tile.done"
t.tile.body:
  %".31" = sub nsw i64 %"int3", %"t.tile"
  %".32" = icmp sge i64 %".31", 32
  %".33" = select  i1 %".32", i64 32, i64 %".31"
  br label %"i.block.head"
t.tile.done:
  ret void
i.block.head:
  %"i.block" = phi  i64 [%"int0", %"t.tile.body"], [%".283", %"i.block.body.endif"]
  %".35" = icmp slt i64 %"i.block", %"int1"
  br i1 %".35", label %"i.block.body", label %"i.block.done"
i.block.body:
  %".37" = add nsw i64 %"i.block", 2
  %".38" = icmp sle i64 %".37", %"int1"
  %".39" = and i1 %".32", %".38"
  br i1 %".39", label %"i.block.body.if", label %"i.block.body.else", !prof !0
i.block.done:
  %".285" = add nsw i64 %"t.tile", 32
  br label %"t.tile.head"
i.block.body.if:
  %".41" = add nsw i64 %"i.block", 1
  br label %"t.q.head"
i.block.body.else:
  %".192" = icmp slt i64 %".37", %"int1"
  %".193" = select  i1 %".192", i64 %".37", i64 %"int1"
  br label %"i.head"
i.block.body.endif:
  %".283" = add nsw i64 %"i.block", 2
  br label %"i.block.head"
t.q.head:
  %"t.q" = phi  i64 [0, %"i.block.body.if"], [%".50", %"t.q.body"]
  %".43" = icmp slt i64 %"t.q", 32
  br i1 %".43", label %"t.q.body", label %"t.q.done"
t.q.body:
  %".45" = add nsw i64 %"t.tile", %"t.q"
  %".46" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q"
  store double              0x0, double* %".46"
  %".48" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"t.q"
  store double              0x0, double* %".48"
  %".50" = add nsw i64 %"t.q", 1
  br label %"t.q.head"
t.q.done:
  br label %"j.head"
j.head:
  %"j" = phi  i64 [%"int4", %"t.q.done"], [%".103", %"t.q.done.1"]
  %".53" = icmp slt i64 %"j", %"int5"
  br i1 %".53", label %"j.body", label %"j.done"
j.body:
  br label %"t.q.head.1"
j.done:
  br label %"t.q.head.2"
t.q.head.1:
  %"t.q.1" = phi  i64 [0, %"j.body"], [%".101", %"t.q.body.1"]
  %".56" = icmp slt i64 %"t.q.1", 32
  br i1 %".56", label %"t.q.body.1", label %"t.q.done.1"
t.q.body.1:
  %".58" = add nsw i64 %"t.tile", %"t.q.1"
  %".59" = add nsw i64 0, %"i.block"
  %".60" = mul nsw i64 %".59", %".21"
  %".61" = add nsw i64 0, %".60"
  %".62" = add nsw i64 0, %"j"
  %".63" = add nsw i64 %".61", %".62"
  %".64" = getelementptr inbounds double, double* %".3", i64 %".63"
  %".65" = load double, double* %".64"
  %".66" = add nsw i64 0, %"j"
  %".67" = mul nsw i64 %".66", %".23"
  %".68" = add nsw i64 0, %".67"
  %".69" = add nsw i64 0, %".58"
  %".70" = srem i64 %".69", 2
  %".71" = add nsw i64 %".68", %".70"
  %".72" = getelementptr inbounds double, double* %".4", i64 %".71"
  %".73" = load double, double* %".72"
  %".74" = fmul double %".65", %".73"
  %".75" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.1"
  %".76" = load double, double* %".75"
  %".77" = fadd reassoc double %".76", %".74"
  %".78" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.1"
  store double %".77", double* %".78"
  %".80" = add nsw i64 0, %".41"
  %".81" = mul nsw i64 %".80", %".21"
  %".82" = add nsw i64 0, %".81"
  %".83" = add nsw i64 0, %"j"
  %".84" = add nsw i64 %".82", %".83"
  %".85" = getelementptr inbounds double, double* %".3", i64 %".84"
  %".86" = load double, double* %".85"
  %".87" = add nsw i64 0, %"j"
  %".88" = mul nsw i64 %".87", %".23"
  %".89" = add nsw i64 0, %".88"
  %".90" = add nsw i64 0, %".58"
  %".91" = srem i64 %".90", 2
  %".92" = add nsw i64 %".89", %".91"
  %".93" = getelementptr inbounds double, double* %".4", i64 %".92"
  %".94" = load double, double* %".93"
  %".95" = fmul double %".86", %".94"
  %".96" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"t.q.1"
  %".97" = load double, double* %".96"
  %".98" = fadd reassoc double %".97", %".95"
  %".99" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"t.q.1"
  store double %".98", double* %".99"
  %".101" = add nsw i64 %"t.q.1", 1
  br label %"t.q.head.1"
t.q.done.1:
  %".103" = add nsw i64 %"j", 1
  br label %"j.head"
t.q.head.2:
  %"t.q.2" = phi  i64 [0, %"j.done"], [%".146", %"k.done"]
  %".106" = icmp slt i64 %"t.q.2", 32
  br i1 %".106", label %"t.q.body.2", label %"t.q.done.2"
t.q.body.2:
  %".108" = add nsw i64 %"t.tile", %"t.q.2"
  %".109" = add nsw i64 0, %"i.block"
  %".110" = mul nsw i64 %".109", %".19"
  %".111" = add nsw i64 0, %".110"
  %".112" = add nsw i64 1, %".108"
  %".113" = srem i64 %".112", 2
  %".114" = add nsw i64 %".111", %".113"
  %".115" = getelementptr inbounds double, double* %".1", i64 %".114"
  %".116" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.2"
  %".117" = load double, double* %".116"
  store double              0x0, double* %"acc.sum"
  br label %"k.head"
t.q.done.2:
  br label %"t.q.head.3"
k.head:
  %"k" = phi  i64 [%"int6", %"t.q.body.2"], [%".140", %"k.body"]
  %".120" = icmp slt i64 %"k", %"int7"
  br i1 %".120", label %"k.body", label %"k.done"
k.body:
  %".122" = load double, double* %"acc.sum"
  %".123" = add nsw i64 0, %"i.block"
  %".124" = mul nsw i64 %".123", %".25"
  %".125" = add nsw i64 0, %".124"
  %".126" = add nsw i64 0, %"k"
  %".127" = add nsw i64 %".125", %".126"
  %".128" = getelementptr inbounds double, double* %".5", i64 %".127"
  %".129" = load double, double* %".128"
  %".130" = add nsw i64 0, %"k"
  %".131" = mul nsw i64 %".130", %".27"
  %".132" = add nsw i64 0, %".131"
  %".133" = add nsw i64 0, %".108"
  %".134" = add nsw i64 %".132", %".133"
  %".135" = getelementptr inbounds double, double* %".6", i64 %".134"
  %".136" = load double, double* %".135"
  %".137" = fmul double %".129", %".136"
  %".138" = fadd reassoc double %".122", %".137"
  store double %".138", double* %"acc.sum"
  %".140" = add nsw i64 %"k", 1
  br label %"k.head"
k.done:
  %".142" = load double, double* %"acc.sum"
  %".143" = fadd double %".117", %".142"
  %".144" = call double @"tanh"(double %".143")
  store double %".144", double* %".115"
  %".146" = add nsw i64 %"t.q.2", 1
  br label %"t.q.head.2"
t.q.head.3:
  %"t.q.3" = phi  i64 [0, %"t.q.done.2"], [%".189", %"k.done.1"]
  %".149" = icmp slt i64 %"t.q.3", 32
  br i1 %".149", label %"t.q.body.3", label %"t.q.done.3"
t.q.body.3:
  %".151" = add nsw i64 %"t.tile", %"t.q.3"
  %".152" = add nsw i64 0, %".41"
  %".153" = mul nsw i64 %".152", %".19"
  %".154" = add nsw i64 0, %".153"
  %".155" = add nsw i64 1, %".151"
  %".156" = srem i64 %".155", 2
  %".157" = add nsw i64 %".154", %".156"
  %".158" = getelementptr inbounds double, double* %".1", i64 %".157"
  %".159" = getelementptr inbounds [32 x double], [32 x double]* %"tile1", i64 0, i64 %"t.q.3"
  %".160" = load double, double* %".159"
  store double              0x0, double* %"acc.sum.1"
  br label %"k.head.1"
t.q.done.3:
  br label %"i.block.body.endif"
k.head.1:
  %"k.1" = phi  i64 [%"int6", %"t.q.body.3"], [%".183", %"k.body.1"]
  %".163" = icmp slt i64 %"k.1", %"int7"
  br i1 %".163", label %"k.body.1", label %"k.done.1"
k.body.1:
  %".165" = load double, double* %"acc.sum.1"
  %".166" = add nsw i64 0, %".41"
  %".167" = mul nsw i64 %".166", %".25"
  %".168" = add nsw i64 0, %".167"
  %".169" = add nsw i64 0, %"k.1"
  %".170" = add nsw i64 %".168", %".169"
  %".171" = getelementptr inbounds double, double* %".5", i64 %".170"
  %".172" = load double, double* %".171"
  %".173" = add nsw i64 0, %"k.1"
  %".174" = mul nsw i64 %".173", %".27"
  %".175" = add nsw i64 0, %".174"
  %".176" = add nsw i64 0, %".151"
  %".177" = add nsw i64 %".175", %".176"
  %".178" = getelementptr inbounds double, double* %".6", i64 %".177"
  %".179" = load double, double* %".178"
  %".180" = fmul double %".172", %".179"
  %".181" = fadd reassoc double %".165", %".180"
  store double %".181", double* %"acc.sum.1"
  %".183" = add nsw i64 %"k.1", 1
  br label %"k.head.1"
k.done.1:
  %".185" = load double, double* %"acc.sum.1"
  %".186" = fadd double %".160", %".185"
  %".187" = call double @"tanh"(double %".186")
  store double %".187", double* %".158"
  %".189" = add nsw i64 %"t.q.3", 1
  br label %"t.q.head.3"
i.head:
  %"i" = phi  i64 [%"i.block", %"i.block.body.else"], [%".280", %"t.q.done.6"]
  %".195" = icmp slt i64 %"i", %".193"
  br i1 %".195", label %"i.body", label %"i.done"
i.body:
  br label %"t.q.head.4"
i.done:
  br label %"i.block.body.endif"
t.q.head.4:
  %"t.q.4" = phi  i64 [0, %"i.body"], [%".203", %"t.q.body.4"]
  %".198" = icmp slt i64 %"t.q.4", %".33"
  br i1 %".198", label %"t.q.body.4", label %"t.q.done.4"
t.q.body.4:
  %".200" = add nsw i64 %"t.tile", %"t.q.4"
  %".201" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.4"
  store double              0x0, double* %".201"
  %".203" = add nsw i64 %"t.q.4", 1
  br label %"t.q.head.4"
t.q.done.4:
  br label %"j.head.1"
j.head.1:
  %"j.1" = phi  i64 [%"int4", %"t.q.done.4"], [%".235", %"t.q.done.5"]
  %".206" = icmp slt i64 %"j.1", %"int5"
  br i1 %".206", label %"j.body.1", label %"j.done.1"
j.body.1:
  br label %"t.q.head.5"
j.done.1:
  br label %"t.q.head.6"
t.q.head.5:
  %"t.q.5" = phi  i64 [0, %"j.body.1"], [%".233", %"t.q.body.5"]
  %".209" = icmp slt i64 %"t.q.5", %".33"
  br i1 %".209", label %"t.q.body.5", label %"t.q.done.5"
t.q.body.5:
  %".211" = add nsw i64 %"t.tile", %"t.q.5"
  %".212" = add nsw i64 0, %"i"
  %".213" = mul nsw i64 %".212", %".21"
  %".214" = add nsw i64 0, %".213"
  %".215" = add nsw i64 0, %"j.1"
  %".216" = add nsw i64 %".214", %".215"
  %".217" = getelementptr inbounds double, double* %".3", i64 %".216"
  %".218" = load double, double* %".217"
  %".219" = add nsw i64 0, %"j.1"
  %".220" = mul nsw i64 %".219", %".23"
  %".221" = add nsw i64 0, %".220"
  %".222" = add nsw i64 0, %".211"
  %".223" = srem i64 %".222", 2
  %".224" = add nsw i64 %".221", %".223"
  %".225" = getelementptr inbounds double, double* %".4", i64 %".224"
  %".226" = load double, double* %".225"
  %".227" = fmul double %".218", %".226"
  %".228" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.5"
  %".229" = load double, double* %".228"
  %".230" = fadd reassoc double %".229", %".227"
  %".231" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.5"
  store double %".230", double* %".231"
  %".233" = add nsw i64 %"t.q.5", 1
  br label %"t.q.head.5"
t.q.done.5:
  %".235" = add nsw i64 %"j.1", 1
  br label %"j.head.1"
t.q.head.6:
  %"t.q.6" = phi  i64 [0, %"j.done.1"], [%".278", %"k.done.2"]
  %".238" = icmp slt i64 %"t.q.6", %".33"
  br i1 %".238", label %"t.q.body.6", label %"t.q.done.6"
t.q.body.6:
  %".240" = add nsw i64 %"t.tile", %"t.q.6"
  %".241" = add nsw i64 0, %"i"
  %".242" = mul nsw i64 %".241", %".19"
  %".243" = add nsw i64 0, %".242"
  %".244" = add nsw i64 1, %".240"
  %".245" = srem i64 %".244", 2
  %".246" = add nsw i64 %".243", %".245"
  %".247" = getelementptr inbounds double, double* %".1", i64 %".246"
  %".248" = getelementptr inbounds [32 x double], [32 x double]* %"tile0", i64 0, i64 %"t.q.6"
  %".249" = load double, double* %".248"
  store double              0x0, double* %"acc.sum.2"
  br label %"k.head.2"
t.q.done.6:
  %".280" = add nsw i64 %"i", 1
  br label %"i.head"
k.head.2:
  %"k.2" = phi  i64 [%"int6", %"t.q.body.6"], [%".272", %"k.body.2"]
  %".252" = icmp slt i64 %"k.2", %"int7"
  br i1 %".252", label %"k.body.2", label %"k.done.2"
k.body.2:
  %".254" = load double, double* %"acc.sum.2"
  %".255" = add nsw i64 0, %"i"
  %".256" = mul nsw i64 %".255", %".25"
  %".257" = add nsw i64 0, %".256"
  %".258" = add nsw i64 0, %"k.2"
  %".259" = add nsw i64 %".257", %".258"
  %".260" = getelementptr inbounds double, double* %".5", i64 %".259"
  %".261" = load double, double* %".260"
  %".262" = add nsw i64 0, %"k.2"
  %".263" = mul nsw i64 %".262", %".27"
  %".264" = add nsw i64 0, %".263"
  %".265" = add nsw i64 0, %".240"
  %".266" = add nsw i64 %".264", %".265"
  %".267" = getelementptr inbounds double, double* %".6", i64 %".266"
  %".268" = load double, double* %".267"
  %".269" = fmul double %".261", %".268"
  %".270" = fadd reassoc double %".254", %".269"
  store double %".270", double* %"acc.sum.2"
  %".272" = add nsw i64 %"k.2", 1
  br label %"k.head.2"
k.done.2:
  %".274" = load double, double* %"acc.sum.2"
  %".275" = fadd double %".249", %".274"
  %".276" = call double @"tanh"(double %".275")
  store double %".276", double* %".247"
  %".278" = add nsw i64 %"t.q.6", 1
  br label %"t.q.head.6"
}

declare double @"tanh"(double %".1")

!0 = !{ !"branch_weights", i32 99, i32 1 }